/**
 * What a store that lacks a study- or series-level WADO-RS resource (HealthImaging has neither
 * study nor series retrieve, nor study metadata) answers instead, from the resources it has:
 * - the instances of a study or series, found by searching them page by page, in series and
 *   instance number order (for a retrieve composed of instance retrieves, dicomweb/wado);
 * - a study's metadata as the metadata of each of its series in turn.
 * Written once in terms of the DicomStore port, so every adapter that needs it shares it.
 */
import { hex8 } from '../dicom/value-decoding';
import { DicomStore } from './dicom-store';
import { QidoLevel, QidoMatch, QidoQuery } from './qido-query';
import { NotFound } from './store-errors';
import { InstanceRef, MetadataEntry, RetrieveScope } from './wado-types';
import { uidOf } from './dicomweb/upstream-results';

const PAGE = 1000;
/** More instances than any real study holds: beyond, the listing stops rather than loop forever. */
const MAX_LISTED = 1_000_000;
const SERIES_NUMBER = 0x00200011;
const INSTANCE_NUMBER = 0x00200013;
/** Series metadata requests in flight for one study. */
const SERIES_CONCURRENCY = 4;

type Searchable = Pick<DicomStore, 'search'>;

/** Every match of a search without conditions below the scope, all pages. */
async function searchAll(store: Searchable, level: QidoLevel, studyUid: string, seriesUid: string | undefined, returnTags: number[]): Promise<QidoMatch[]> {
  const all: QidoMatch[] = [];
  for (let offset = 0; offset < MAX_LISTED; offset += PAGE) {
    const query: QidoQuery = { level, studyUid, seriesUid, conditions: [], returnTags, includeAll: false, fuzzy: false, limit: PAGE, offset };
    const page = await store.search(query);
    all.push(...page.matches);
    if (!page.more || page.matches.length === 0) break;
  }
  return all;
}

function numberOf(object: QidoMatch['series'], tag: number): number {
  const value = Number(object?.[hex8(tag)]?.Value?.[0]);
  return Number.isFinite(value) ? value : Number.MAX_SAFE_INTEGER;
}

/** The instances of a study or series scope, in series number, instance number, UID order. */
export async function instancesInScope(store: Searchable, scope: Exclude<RetrieveScope, { level: 'instance' }>): Promise<InstanceRef[]> {
  const seriesUid = scope.level === 'series' ? scope.seriesInstanceUid : undefined;
  const matches = await searchAll(store, 'instance', scope.studyInstanceUid, seriesUid, [SERIES_NUMBER, INSTANCE_NUMBER]);
  const rows = matches.flatMap((m) => {
    const series = uidOf(m.series, 'series') ?? seriesUid;
    const sop = uidOf(m.instance, 'instance');
    if (!series || !sop) return [];
    return [{ ref: { studyInstanceUid: scope.studyInstanceUid, seriesInstanceUid: series, sopInstanceUid: sop }, s: numberOf(m.series, SERIES_NUMBER), i: numberOf(m.instance, INSTANCE_NUMBER) }];
  });
  rows.sort((a, b) => a.s - b.s || a.ref.seriesInstanceUid.localeCompare(b.ref.seriesInstanceUid) || a.i - b.i || a.ref.sopInstanceUid.localeCompare(b.ref.sopInstanceUid));
  const seen = new Set<string>();
  const refs = rows.map((r) => r.ref).filter((r) => !seen.has(r.sopInstanceUid) && seen.add(r.sopInstanceUid));
  if (refs.length === 0) throw new NotFound(scope.level === 'study' ? `Study ${scope.studyInstanceUid} is not stored here` : `Series ${seriesUid} of study ${scope.studyInstanceUid} is not stored here`);
  return refs;
}

/** A study's metadata as that of its series, in series number order, a few series at a time. */
export async function studyMetadataBySeries(store: Pick<DicomStore, 'search' | 'metadata'>, studyUid: string): Promise<MetadataEntry[]> {
  const series = (await searchAll(store, 'series', studyUid, undefined, [SERIES_NUMBER]))
    .map((m) => ({ uid: uidOf(m.series, 'series'), n: numberOf(m.series, SERIES_NUMBER) }))
    .filter((s): s is { uid: string; n: number } => s.uid !== undefined)
    .sort((a, b) => a.n - b.n || a.uid.localeCompare(b.uid));
  if (series.length === 0) throw new NotFound(`Study ${studyUid} is not stored here`);
  const results: MetadataEntry[][] = new Array<MetadataEntry[]>(series.length);
  let next = 0;
  const worker = async () => {
    while (next < series.length) {
      const index = next++;
      const entries: MetadataEntry[] = [];
      try {
        for await (const entry of await store.metadata({ level: 'series', studyInstanceUid: studyUid, seriesInstanceUid: series[index].uid })) entries.push(entry);
      } catch (e) {
        // A series listed a moment ago may be gone (deleted, or not indexed after all).
        if (!(e instanceof NotFound)) throw e;
      }
      results[index] = entries;
    }
  };
  await Promise.all(Array.from({ length: Math.min(SERIES_CONCURRENCY, series.length) }, worker));
  const all = results.flat();
  if (all.length === 0) throw new NotFound(`Study ${studyUid} is not stored here`);
  return all;
}
