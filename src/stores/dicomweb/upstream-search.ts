/**
 * QIDO-RS through an upstream: the query re-encoded for it (upstream-query.ts), its flat results
 * split into levels (upstream-results.ts), and what it leaves out completed here:
 * - /series and /instances results without the study's attributes (Orthanc leaves out Modalities
 *   in Study and the counts) get them from one study search for all the page's studies, and
 *   /instances results the series' likewise;
 * - includefield=all, which some upstreams ignore, is served from the metadata of one instance
 *   per result (cached for the request);
 * - conditions the upstream could not be given exactly are matched here, with the paging done
 *   here too (over at most SCAN_LIMIT upstream results, said in a Warning when cut).
 * limit and offset were validated at the gateway; one more result than asked tells whether more
 * exist.
 */
import { DicomJsonObject } from '../../dicom/dicom-json';
import { LEVEL_DEPTH, RESULT_ATTRIBUTES, qidoLevelOfTag } from '../../dicom/qido-attributes';
import { hex8 } from '../../dicom/value-decoding';
import { matchesAll } from '../qido-post-filter';
import { QidoLevel, QidoMatch, QidoQuery, QidoResult } from '../qido-query';
import { UnsupportedSearch, UpstreamError } from '../store-errors';
import { UpstreamClient } from './upstream-client';
import { planUpstreamQuery, UpstreamQueryRules } from './upstream-query';
import { mergeInto, splitResult, uidOf } from './upstream-results';

const SCAN_PAGE = 500;
const SCAN_LIMIT = 5_000;
/** UIDs per completing search (List of UID Matching). */
const UID_BATCH = 50;
/** Metadata requests in flight for includefield=all. */
const METADATA_CONCURRENCY = 4;
const JSON_ACCEPT = { accept: 'application/dicom+json' };

/** How an upstream can be searched: its query rules and its paging limits. */
export interface UpstreamSearchOptions extends UpstreamQueryRules {
  /** Most results one upstream search may return (its largest `limit`), for all levels or by
   *  level: a larger page is asked in several requests. Absent: no limit. */
  maxPageSize?: number | Record<QidoLevel, number>;
  /** Largest `offset` the upstream accepts: a page beyond cannot be reached (UnsupportedSearch). */
  maxOffset?: number;
  /** The upstream honours includefield=all, so no instance metadata is read for it. */
  includeAllNative?: boolean;
}

export class UpstreamSearch {
  private readonly options: UpstreamSearchOptions;

  constructor(
    private readonly client: UpstreamClient,
    options: UpstreamSearchOptions | boolean,
  ) {
    this.options = typeof options === 'boolean' ? { percentEncode: options } : options;
  }

  async search(query: QidoQuery): Promise<QidoResult> {
    const plan = planUpstreamQuery(query, this.options);
    const path = resourcePath(query);
    const ignored = [...plan.notes];
    let matches: QidoMatch[];
    let more: boolean;
    if (plan.atGateway.length === 0) {
      const page = await this.page(path, plan.params, query.offset, query.limit + 1, query.level);
      more = page.length > query.limit;
      matches = page.slice(0, query.limit);
    } else {
      const wanted = query.offset + query.limit + 1;
      const kept: QidoMatch[] = [];
      let scanned = 0;
      let exhausted = false;
      while (kept.length < wanted && scanned < SCAN_LIMIT) {
        const size = Math.min(SCAN_PAGE, SCAN_LIMIT - scanned);
        const page = await this.page(path, plan.params, scanned, size, query.level);
        scanned += page.length;
        for (const match of page) if (matchesAll(match, plan.atGateway)) kept.push(match);
        if (page.length < size) {
          exhausted = true;
          break;
        }
      }
      if (!exhausted && kept.length < wanted) {
        ignored.push(`only the first ${scanned} results of the upstream were matched at the gateway; narrow the search to see the others`);
      }
      matches = kept.slice(query.offset, query.offset + query.limit);
      more = kept.length > query.offset + query.limit || !exhausted;
    }
    await this.complete(query, matches);
    return { matches, more, ignored };
  }

  /** Up to `limit` results from `offset`, in as many requests as the upstream's page size needs. */
  private async page(path: string, params: string[], offset: number, limit: number, level: QidoLevel): Promise<QidoMatch[]> {
    const max = this.options.maxPageSize;
    const size = (typeof max === 'number' ? max : max?.[level]) ?? limit;
    if (limit <= size) return this.request(path, params, offset, limit, level);
    const results: QidoMatch[] = [];
    for (let at = offset; at < offset + limit; at += size) {
      const part = await this.request(path, params, at, Math.min(size, offset + limit - at), level);
      results.push(...part);
      if (part.length < Math.min(size, offset + limit - at)) break;
    }
    return results;
  }

  private async request(path: string, params: string[], offset: number, limit: number, level: QidoLevel): Promise<QidoMatch[]> {
    const maxOffset = this.options.maxOffset;
    if (maxOffset !== undefined && offset > maxOffset) {
      throw new UnsupportedSearch(`${this.options.describe ?? 'this store'} cannot page beyond offset ${maxOffset}; narrow the search`);
    }
    const query = [...params, `limit=${limit}`, ...(offset > 0 ? [`offset=${offset}`] : [])].join('&');
    const { value } = await this.client.json<unknown>(
      { method: 'GET', path: `${path}?${query}`, headers: JSON_ACCEPT, what: `search ${path}` },
      // 204 (dcm4chee) and 404 (an unknown study in the path) mean no match.
      (s) => s === 200 || s === 204 || s === 404,
    );
    if (value === undefined) return [];
    if (!Array.isArray(value)) {
      // A 404 with an error object is "no such study": nothing matches.
      if (typeof value === 'object') return [];
      throw new UpstreamError(`upstream search ${path} answered something other than a JSON array`);
    }
    return value.filter((v): v is DicomJsonObject => typeof v === 'object' && v !== null).map((flat) => splitResult(flat, level));
  }

  /** Fills in what the answer must hold and the upstream left out (see the file comment). */
  private async complete(query: QidoQuery, matches: QidoMatch[]): Promise<void> {
    if (matches.length === 0) return;
    if (query.level !== 'study') {
      const studyTags = neededTags(query, 'study', query.studyUid === undefined);
      await this.completeLevel(matches, 'study', studyTags, '/studies');
    }
    if (query.level === 'instance') {
      const seriesTags = neededTags(query, 'series', query.seriesUid === undefined);
      await this.completeLevel(matches, 'series', seriesTags, '/series');
    }
    if (query.includeAll && !this.options.includeAllNative) await this.includeAll(query.level, matches);
  }

  /** One search per UID_BATCH distinct studies (or series) missing some of `tags`. */
  private async completeLevel(matches: QidoMatch[], level: 'study' | 'series', tags: string[], path: string): Promise<void> {
    if (tags.length === 0) return;
    const lacking = new Set<string>();
    for (const match of matches) {
      const object = match[level];
      const uid = uidOf(object, level);
      if (uid && tags.some((t) => !(t in object!))) lacking.add(uid);
    }
    const uids = [...lacking];
    const found = new Map<string, DicomJsonObject>();
    for (let i = 0; i < uids.length; i += UID_BATCH) {
      const batch = uids.slice(i, i + UID_BATCH);
      const params = [`${hex8(level === 'study' ? 0x0020000d : 0x0020000e)}=${batch.join(',')}`, ...tags.map((t) => `includefield=${t}`)];
      for (const result of await this.page(path, params, 0, batch.length, level)) {
        const uid = uidOf(result[level], level);
        if (uid) found.set(uid, result[level]!);
      }
    }
    for (const match of matches) {
      const uid = uidOf(match[level], level);
      const extra = uid ? found.get(uid) : undefined;
      if (extra) mergeInto(match, extra, level);
    }
  }

  /** includefield=all: the attributes of one instance's metadata, per result. */
  private async includeAll(level: QidoLevel, matches: QidoMatch[]): Promise<void> {
    const cache = new Map<string, Promise<DicomJsonObject | undefined>>();
    let next = 0;
    const worker = async () => {
      while (next < matches.length) {
        const match = matches[next++];
        const key = [uidOf(match.study, 'study'), uidOf(match.series, 'series'), uidOf(match.instance, 'instance')].join('/');
        if (!cache.has(key)) cache.set(key, this.representativeMetadata(match));
        const metadata = await cache.get(key);
        if (metadata) mergeInto(match, metadata, level);
      }
    };
    await Promise.all(Array.from({ length: Math.min(METADATA_CONCURRENCY, matches.length) }, worker));
  }

  private async representativeMetadata(match: QidoMatch): Promise<DicomJsonObject | undefined> {
    const study = uidOf(match.study, 'study');
    if (!study) return undefined;
    let series = uidOf(match.series, 'series');
    let instance = uidOf(match.instance, 'instance');
    if (!instance) {
      const scope = series ? `/studies/${study}/series/${series}/instances` : `/studies/${study}/instances`;
      const [first] = await this.page(scope, [], 0, 1, 'instance');
      series = uidOf(first?.series, 'series') ?? series;
      instance = uidOf(first?.instance, 'instance');
      if (!series || !instance) return undefined;
    }
    const { value } = await this.client.json<unknown>(
      { method: 'GET', path: `/studies/${study}/series/${series}/instances/${instance}/metadata`, headers: JSON_ACCEPT, what: 'metadata for includefield=all' },
      (s) => s === 200 || s === 404,
    );
    const first = Array.isArray(value) ? value[0] : undefined;
    return typeof first === 'object' && first !== null ? (first as DicomJsonObject) : undefined;
  }
}

function resourcePath(query: QidoQuery): string {
  const { studyUid, seriesUid } = query;
  switch (query.level) {
    case 'study':
      return '/studies';
    case 'series':
      return studyUid ? `/studies/${studyUid}/series` : '/series';
    case 'instance':
      if (seriesUid && studyUid) return `/studies/${studyUid}/series/${seriesUid}/instances`;
      return studyUid ? `/studies/${studyUid}/instances` : '/instances';
  }
}

/** The attributes of `level` an answer must hold: the level's Type R defaults when the path does
 *  not name it (PS3.18 10.6.3.3.2-3), and every match key and includefield of that level. */
function neededTags(query: QidoQuery, level: QidoLevel, defaults: boolean): string[] {
  const tags = new Set<string>();
  if (defaults) for (const a of RESULT_ATTRIBUTES[level]) if (a.required) tags.add(hex8(a.tag));
  for (const tag of query.returnTags) if (qidoLevelOfTag(tag) === level && LEVEL_DEPTH[level] < LEVEL_DEPTH[query.level]) tags.add(hex8(tag));
  return [...tags];
}
