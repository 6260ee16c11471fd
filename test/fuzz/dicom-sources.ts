/**
 * The valid instances the hostile ones are made from: the third-party samples
 * (/work/shared/dicom-samples, written by other projects) and small synthetic instances in each
 * native transfer syntax. `withFreshUid` gives a mutant its own SOP Instance UID (same length,
 * so no length changes), so that a mutant the gateway accepts is stored rather than refused as a
 * conflicting duplicate of its source.
 */
import { readFileSync } from 'node:fs';
import { syntheticInstance, uidFromSeed } from '../fixtures/dicom-builder';
import { sampleFiles } from '../helpers/samples';
import { TS } from '../../src/dicom/transfer-syntax';
import { ElementMap, mapElements } from './element-map';

export interface SourceInstance {
  name: string;
  bytes: Buffer;
  /** undefined when the file cannot be walked (deflated). */
  map?: ElementMap;
}

const SYNTHETIC_SYNTAXES = [TS.ExplicitVRLittleEndian, TS.ImplicitVRLittleEndian, TS.ExplicitVRBigEndian];

/** A small synthetic CT with UIDs of its own (16 x 16, so cases stay cheap). */
export function smallInstance(seed: string, transferSyntaxUid: string = TS.ExplicitVRLittleEndian, frames = 1): Buffer {
  return syntheticInstance({
    seed: Number.parseInt(uidFromSeed(seed, 'n').slice(5, 13), 10),
    studyUid: uidFromSeed(seed, 'study'),
    seriesUid: uidFromSeed(seed, 'series'),
    sopInstanceUid: uidFromSeed(seed, 'instance'),
    rows: 16,
    columns: 16,
    frames,
    transferSyntaxUid,
  });
}

const VALID_UID = /^(0|[1-9]\d*)(\.(0|[1-9]\d*))*$/;

let cached: SourceInstance[] | undefined;

export function sourceInstances(): SourceInstance[] {
  if (cached) return cached;
  const list: SourceInstance[] = sampleFiles().map(({ name, path }) => {
    const bytes = readFileSync(path);
    return { name, bytes, map: mapElements(bytes) };
  });
  SYNTHETIC_SYNTAXES.forEach((ts, i) => {
    const bytes = smallInstance(`fuzz-source-${i}`, ts, i === 0 ? 3 : 1);
    list.push({ name: `synthetic-${ts}`, bytes, map: mapElements(bytes) });
  });
  cached = list;
  return list;
}

/** `bytes` with its SOP Instance UID (data set and File Meta) replaced by another of the same
 *  length, derived from `tag`. Unchanged when the file cannot be walked. */
export function withFreshUid(source: SourceInstance, tag: string): Buffer {
  const out = Buffer.from(source.bytes);
  if (!source.map) return out;
  const digits = uidFromSeed(tag, 'fresh').slice(-9);
  for (const site of source.map.sites) {
    if ((site.tag !== 0x00080018 && site.tag !== 0x00020003) || site.depth !== 0 || site.length < 16) continue;
    const old = out.toString('latin1', site.valueOffset, site.valueOffset + site.length).replace(/[\0 ]+$/, '');
    // Keep the root, replace the last ten characters by "1" and nine digits.
    const fresh = old.slice(0, old.length - 10) + '1' + digits;
    if (VALID_UID.test(fresh)) out.write(fresh, site.valueOffset, 'latin1');
  }
  return out;
}
