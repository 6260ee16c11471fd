/**
 * Hostile DICOM structure, built from valid pieces: wrong VRs, sequences hundreds or thousands of
 * levels deep, undefined-length items and sequences never closed, items and delimiters where none
 * may be, elements out of order or repeated, File Meta Information that lies, broken encapsulated
 * Pixel Data, floods of tiny elements. Also the largest instances a case may get stored, which the
 * warm-up sends before the memory baseline is taken.
 */
import { buildPart10, elementHeader, ElementSpec, encodeElement, itemHeader, uidFromSeed } from '../fixtures/dicom-builder';
import { TS } from '../../src/dicom/transfer-syntax';
import { HostileInstance } from './dicom-mutations';
import { smallInstance, sourceInstances, withFreshUid } from './dicom-sources';
import { Prng } from './prng';

const EXPLICIT_LE = { explicitVr: true, littleEndian: true };
const IMPLICIT_LE = { explicitVr: false, littleEndian: true };

/** The largest instances the cases send that the gateway may accept: a flood of tiny elements,
 *  a text value of megabytes, nesting as deep as allowed. Sent in the warm-up, so that the memory
 *  baseline is taken after the largest transient allocations a case can cause. */
export function heavyInstances(tag: string, maxSequenceDepth: number): HostileInstance[] {
  const flood = (n: number) => Buffer.concat(Array.from({ length: n }, (_, i) => encodeElement({ tag: 0x00110000 | (0x1000 + (i % 0xefff)), vr: 'SH', value: 'x' }, EXPLICIT_LE)));
  const text = smallInstance(`${tag}/text`);
  const px = text.indexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00]));
  return [
    { description: 'flood of 20000 elements', bytes: Buffer.concat([minimalInstance(`${tag}/flood`, []), flood(20000)]) },
    { description: 'a 3 MiB UT value', bytes: Buffer.concat([text.subarray(0, px), elementHeader(0x00091010, 'UT', 3 * 1024 * 1024, EXPLICIT_LE), Buffer.alloc(3 * 1024 * 1024, 0x41), text.subarray(px)]) },
    { description: `sequences ${maxSequenceDepth} deep`, bytes: deepSequenceInstance(`${tag}/deep`, maxSequenceDepth) },
  ];
}

/** A sequence `depth` levels deep (each item holds the next sequence), written without recursion:
 *  the builder's recursive encoder would run out of stack first. */
function deepSequence(depth: number, undefinedLength: boolean, explicitVr: boolean): Buffer {
  const enc = { explicitVr, littleEndian: true };
  const innermost = encodeElement({ tag: 0x00081150, value: '1.2.840.10008.5.1.4.1.1.2' }, enc);
  const heads: Buffer[] = [];
  const tails: Buffer[] = [];
  let inner = innermost.length;
  const sizes: number[] = [];
  for (let i = 0; i < depth; i++) {
    sizes.push(inner); // the item of this level holds `inner` bytes
    inner = (explicitVr ? 12 : 8) + 8 + inner + (undefinedLength ? 16 : 0);
  }
  for (let i = depth - 1; i >= 0; i--) {
    const item = sizes[i];
    heads.push(elementHeader(0x00081110, 'SQ', undefinedLength ? 0xffffffff : 8 + item, enc), itemHeader(0xfffee000, undefinedLength ? 0xffffffff : item, enc));
    if (undefinedLength) tails.push(itemHeader(0xfffee00d, 0, enc), itemHeader(0xfffee0dd, 0, enc));
  }
  return Buffer.concat([...heads, innermost, ...tails]);
}

/** A minimal valid instance of its own UIDs, with `extra` elements. */
function minimalInstance(tag: string, extra: ElementSpec[], ts: string = TS.ExplicitVRLittleEndian): Buffer {
  return buildPart10({
    transferSyntaxUid: ts,
    elements: [
      { tag: 'SOPClassUID', value: '1.2.840.10008.5.1.4.1.1.7' },
      { tag: 'SOPInstanceUID', value: uidFromSeed(tag, 'instance') },
      { tag: 'StudyInstanceUID', value: uidFromSeed(tag, 'study') },
      { tag: 'SeriesInstanceUID', value: uidFromSeed(tag, 'series') },
      { tag: 'PatientName', value: 'Fuzz^Structure' },
      ...extra,
    ],
  });
}

/** A valid instance holding one sequence `depth` levels deep, right before PatientName. */
export function deepSequenceInstance(tag: string, depth: number, undefinedLength = true, ts: string = TS.ExplicitVRLittleEndian): Buffer {
  const sequence = deepSequence(depth, undefinedLength, ts !== TS.ImplicitVRLittleEndian);
  const head = minimalInstance(tag, [], ts);
  const at = head.indexOf(Buffer.from([0x10, 0x00, 0x10, 0x00])); // (0010,0010), after (0008,1110)'s place
  return Buffer.concat([head.subarray(0, at), sequence, head.subarray(at)]);
}

/** Structure that is wrong in itself: VRs, nesting, order, File Meta Information. */
export function brokenStructure(rng: Prng, tag: string): HostileInstance {
  const uid = (p: string) => uidFromSeed(tag, p);
  const kind = rng.pick(['deep', 'unclosed-item', 'unclosed-sequence', 'stray-item', 'stray-delimiter', 'vr', 'order', 'meta', 'fragments', 'flood', 'un-garbage'] as const);
  const base = (extra: ElementSpec[], ts: string = TS.ExplicitVRLittleEndian) => minimalInstance(tag, extra, ts);
  switch (kind) {
    case 'deep': {
      const depth = rng.pick([50, 200, 200, 1000, 3000]);
      const undefinedLength = rng.chance(0.5);
      const ts = rng.pick([TS.ExplicitVRLittleEndian, TS.ImplicitVRLittleEndian]);
      return { description: `sequence ${depth} deep, ${undefinedLength ? 'undefined' : 'defined'} lengths, ${ts}`, bytes: deepSequenceInstance(tag, depth, undefinedLength, ts) };
    }
    case 'unclosed-item':
    case 'unclosed-sequence': {
      const good = base([]);
      const depth = rng.int(1, 300);
      const parts: Buffer[] = [good];
      for (let i = 0; i < depth; i++) {
        parts.push(elementHeader(0x00400275, 'SQ', 0xffffffff, EXPLICIT_LE), itemHeader(0xfffee000, 0xffffffff, EXPLICIT_LE));
        parts.push(encodeElement({ tag: 0x00321060, value: 'never closed' }, EXPLICIT_LE));
      }
      if (kind === 'unclosed-sequence') parts.push(itemHeader(0xfffee00d, 0, EXPLICIT_LE));
      if (rng.chance(0.5)) parts.push(encodeElement({ tag: 0x7fe00010, vr: 'OW', value: Buffer.alloc(64) }, EXPLICIT_LE));
      return { description: `${depth} undefined-length ${kind === 'unclosed-item' ? 'items' : 'sequences'} never closed`, bytes: Buffer.concat(parts) };
    }
    case 'stray-item':
      return { description: 'an item at the top level', bytes: Buffer.concat([base([]), itemHeader(0xfffee000, rng.pick([0, 8, 0xffffffff]), EXPLICIT_LE), rng.bytes(8)]) };
    case 'stray-delimiter':
      return { description: 'a delimiter at the top level', bytes: Buffer.concat([base([]), itemHeader(rng.pick([0xfffee00d, 0xfffee0dd]), rng.pick([0, 4, 0xffffffff]), EXPLICIT_LE)]) };
    case 'vr': {
      const explicit = sourceInstances().filter((s) => s.map?.sites.some((x) => x.vrOffset > 0 && x.offset >= s.map!.datasetOffset));
      const source = rng.pick(explicit);
      const bytes = withFreshUid(source, tag);
      const site = rng.pick(source.map!.sites.filter((s) => s.vrOffset > 0 && s.offset >= source.map!.datasetOffset));
      const vr = rng.pick(['SQ', 'UN', 'OB', 'ZZ', 'sq', '\0\0', '\xff\xff', 'UT', 'US', 'AT', 'OV', 'SV']);
      bytes.write(vr, site.vrOffset, 'latin1');
      return { description: `${source.name}: VR of (${site.tag.toString(16).padStart(8, '0')}) at ${site.offset} ${site.vr} -> ${JSON.stringify(vr)}`, bytes };
    }
    case 'order': {
      const elements: ElementSpec[] = [
        { tag: 'PatientID', value: 'ORDER' },
        { tag: 'SOPInstanceUID', value: uid('instance') },
        { tag: 'SOPClassUID', value: '1.2.840.10008.5.1.4.1.1.7' },
        { tag: 'StudyInstanceUID', value: uid('study') },
        { tag: 'SeriesInstanceUID', value: uid('series') },
        { tag: 'PatientName', value: 'First^Copy' },
        { tag: 'PatientName', value: 'Second^Copy' },
        { tag: 'Modality', value: 'OT' },
      ];
      return { description: 'elements out of order, one tag twice', bytes: buildPart10({ elements: rng.chance(0.5) ? elements.reverse() : elements, keepOrder: true }) };
    }
    case 'meta': {
      const lie = rng.pick(['no-ts', 'garbage-ts', 'big-endian', 'implicit', 'deflated', 'group-length', 'no-dicm', 'meta-only'] as const);
      const elements: ElementSpec[] = [
        { tag: 'SOPClassUID', value: '1.2.840.10008.5.1.4.1.1.7' },
        { tag: 'SOPInstanceUID', value: uid('instance') },
        { tag: 'StudyInstanceUID', value: uid('study') },
        { tag: 'SeriesInstanceUID', value: uid('series') },
      ];
      const good = buildPart10({ elements });
      const meta = (m: Parameters<typeof buildPart10>[0]['meta']) => buildPart10({ elements, meta: m });
      switch (lie) {
        case 'no-ts':
          return { description: 'File Meta Information without a Transfer Syntax UID', bytes: meta({ elements: [{ tag: 0x00020010, vr: 'UI', value: '' }] }) };
        case 'garbage-ts':
          return { description: 'Transfer Syntax UID of garbage', bytes: meta({ elements: [{ tag: 0x00020010, vr: 'UI', value: rng.bytes(rng.int(1, 64)) }] }) };
        case 'big-endian':
        case 'implicit':
        case 'deflated': {
          const ts = lie === 'big-endian' ? TS.ExplicitVRBigEndian : lie === 'implicit' ? TS.ImplicitVRLittleEndian : TS.DeflatedExplicitVRLittleEndian;
          return { description: `a little endian explicit data set declared ${lie}`, bytes: meta({ elements: [{ tag: 0x00020010, vr: 'UI', value: ts }] }) };
        }
        case 'group-length':
          return { description: 'File Meta group length that lies', bytes: meta({ groupLength: rng.pick([0, 1, 7, 0xffffffff, 100000]) }) };
        case 'no-dicm': {
          const bytes = Buffer.from(good);
          bytes.write(rng.pick(['DICN', '\0\0\0\0', 'dicm']), 128, 'latin1');
          return { description: 'no DICM after the preamble', bytes };
        }
        case 'meta-only':
          return { description: 'File Meta Information and nothing after it', bytes: good.subarray(0, good.indexOf(Buffer.from([0x08, 0x00, 0x16, 0x00]))) };
      }
      break;
    }
    case 'fragments': {
      const good = base([], '1.2.840.10008.1.2.4.50');
      const parts = [good, elementHeader(0x7fe00010, 'OB', 0xffffffff, EXPLICIT_LE)];
      const broken = rng.pick(['no-bot', 'lying-fragment', 'undefined-fragment', 'unterminated', 'odd-bot'] as const);
      if (broken !== 'no-bot') parts.push(itemHeader(0xfffee000, broken === 'odd-bot' ? 6 : 0, EXPLICIT_LE), Buffer.alloc(broken === 'odd-bot' ? 6 : 0));
      if (broken === 'lying-fragment') parts.push(itemHeader(0xfffee000, 0x7fffffff, EXPLICIT_LE), rng.bytes(100));
      else if (broken === 'undefined-fragment') parts.push(itemHeader(0xfffee000, 0xffffffff, EXPLICIT_LE), rng.bytes(100));
      else parts.push(itemHeader(0xfffee000, 100, EXPLICIT_LE), rng.bytes(100));
      if (broken !== 'unterminated' && broken !== 'lying-fragment') parts.push(itemHeader(0xfffee0dd, 0, EXPLICIT_LE));
      return { description: `encapsulated Pixel Data: ${broken}`, bytes: Buffer.concat(parts) };
    }
    case 'flood': {
      const n = rng.pick([5000, 20000, 80000]);
      const one = (i: number) => encodeElement({ tag: 0x00110000 | (0x1000 + (i % 0xefff)), vr: 'SH', value: 'x' }, EXPLICIT_LE);
      const flood = Buffer.concat(Array.from({ length: n }, (_, i) => one(i)));
      return { description: `${n} tiny private elements (most with the same tag)`, bytes: Buffer.concat([base([]), flood]) };
    }
    case 'un-garbage': {
      const garbage = rng.bytes(rng.int(0, 400));
      const bytes = Buffer.concat([base([]), elementHeader(0x00131010, 'UN', 0xffffffff, EXPLICIT_LE), garbage, itemHeader(0xfffee0dd, 0, IMPLICIT_LE)]);
      return { description: `UN of undefined length holding ${garbage.length} random bytes`, bytes };
    }
  }
  throw new Error('unreachable');
}
