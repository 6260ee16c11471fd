/**
 * QIDO-RS over the members of a federated store: the same query to every member the client may
 * read, in parallel, each within the member timeout; the answers merged in the order of
 * preference (the most preferred member first, each member's matches in its own order), an object
 * several members hold kept once with the preferred member's attributes, and the page cut from
 * that merged list. A member that fails or is too slow is left out with a Warning naming it.
 *
 * Each member is asked for the first offset + limit matches (at most maxMatchesPerMember), which
 * is what the merged page can need; the computed counts of an object several members hold (Number
 * of Study/Series Related Series/Instances, Modalities in Study) are recomputed as their union
 * for the objects on the page.
 */
import { getStrings } from '../../dicom/dicom-json-access';
import { DicomStore } from '../dicom-store';
import { NotFound } from '../store-errors';
import { QidoLevel, QidoMatch, QidoQuery, QidoResult } from '../qido-query';

const STUDY_UID = '0020000D';
const SERIES_UID = '0020000E';
const SOP_UID = '00080018';
const MODALITIES_IN_STUDY = '00080061';
const STUDY_SERIES = '00201206';
const STUDY_INSTANCES = '00201208';
const SERIES_INSTANCES = '00201209';

export interface MemberFailure {
  member: string;
  reason: 'timeout' | 'error';
  detail: string;
}

export interface FederatedSearchOptions {
  storeName: string;
  timeoutMs: number;
  maxMatchesPerMember: number;
  /** Told of each member that failed, for the metrics. */
  onFailure(failure: MemberFailure): void;
  /** Told which members hold which studies, for WADO routing. */
  onLocations(locations: Map<string, string[]>): void;
}

export class MemberTimeout extends Error {}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new MemberTimeout(`${what} did not answer within ${ms} ms`)), ms);
  });
  // The member's own request goes on in the background; its answer, if any, is dropped.
  promise.catch(() => undefined);
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function uidAt(match: QidoMatch, level: QidoLevel): string | undefined {
  const object = level === 'study' ? match.study : level === 'series' ? match.series : match.instance;
  const tag = level === 'study' ? STUDY_UID : level === 'series' ? SERIES_UID : SOP_UID;
  const value = object?.[tag]?.Value?.[0];
  return typeof value === 'string' ? value : undefined;
}

function wants(query: QidoQuery, tag: string): boolean {
  return query.includeAll || query.returnTags.includes(parseInt(tag, 16));
}

/** Every instance of a study (or of one of its series), up to `limit`. */
export function instanceQuery(studyUid: string, seriesUid: string | undefined, limit: number): QidoQuery {
  return { level: 'instance', studyUid, seriesUid, conditions: [], returnTags: [], includeAll: false, fuzzy: false, limit, offset: 0 };
}

interface Merged {
  match: QidoMatch;
  /** Every member that returned this object with its match, most preferred first. */
  copies: { member: DicomStore; match: QidoMatch }[];
}

export async function federatedSearch(members: DicomStore[], query: QidoQuery, options: FederatedSearchOptions): Promise<QidoResult> {
  const window = Math.min(query.offset + query.limit, options.maxMatchesPerMember);
  const memberQuery: QidoQuery = { ...query, offset: 0, limit: window };
  const answers = await Promise.all(
    members.map((member) =>
      withTimeout(member.search(memberQuery), options.timeoutMs, `store "${member.name}"`).then(
        (result) => ({ member, result }),
        // A member without the study or series searched in has no matches: not a failure.
        (error: unknown) => (error instanceof NotFound ? { member, result: { matches: [], more: false } as QidoResult } : { member, error }),
      ),
    ),
  );
  const warnings: string[] = [];
  const merged: Merged[] = [];
  const byUid = new Map<string, Merged>();
  const locations = new Map<string, string[]>();
  let more = false;
  for (const answer of answers) {
    if ('error' in answer) {
      const timeout = answer.error instanceof MemberTimeout;
      const detail = answer.error instanceof Error ? answer.error.message : String(answer.error);
      options.onFailure({ member: answer.member.name, reason: timeout ? 'timeout' : 'error', detail });
      warnings.push(`member store "${answer.member.name}" of "${options.storeName}" ${timeout ? 'did not answer in time' : 'failed'}: its matches are missing from this answer (${detail})`);
      continue;
    }
    const { member, result } = answer;
    if (result.more) more = true;
    for (const text of result.ignored ?? []) warnings.push(`member store "${member.name}": ${text}`);
    for (const match of result.matches) {
      const study = uidAt(match, 'study');
      if (study) {
        const holders = locations.get(study) ?? [];
        if (!holders.includes(member.name)) holders.push(member.name);
        locations.set(study, holders);
      }
      const uid = uidAt(match, query.level);
      if (!uid) continue;
      const seen = byUid.get(uid);
      if (seen) {
        seen.copies.push({ member, match });
        continue;
      }
      const entry: Merged = { match, copies: [{ member, match }] };
      byUid.set(uid, entry);
      merged.push(entry);
    }
  }
  options.onLocations(locations);
  const page = merged.slice(query.offset, query.offset + query.limit);
  const matches = await Promise.all(page.map((entry) => (entry.copies.length > 1 ? unionOf(entry, query, options) : entry.match)));
  return { matches, more: more || merged.length > query.offset + query.limit, ignored: warnings };
}

/** The preferred member's match with the computed attributes made true of the union. */
async function unionOf(entry: Merged, query: QidoQuery, options: FederatedSearchOptions): Promise<QidoMatch> {
  const match: QidoMatch = { ...entry.match, study: { ...entry.match.study }, series: entry.match.series && { ...entry.match.series } };
  const studyUid = uidAt(match, 'study')!;
  const holders = entry.copies.map((c) => c.member);
  if (query.level === 'study') {
    if (wants(query, MODALITIES_IN_STUDY)) {
      // Modalities of every holder's answer: no extra request.
      const modalities = new Set<string>();
      for (const copy of entry.copies) for (const m of getStrings(copy.match.study, MODALITIES_IN_STUDY)) modalities.add(m);
      if (modalities.size > 0) match.study[MODALITIES_IN_STUDY] = { vr: 'CS', Value: [...modalities].sort() };
    }
    if (wants(query, STUDY_SERIES) || wants(query, STUDY_INSTANCES)) {
      const instances = await unionOfInstances(holders, studyUid, undefined, options);
      if (instances) {
        if (wants(query, STUDY_SERIES)) match.study[STUDY_SERIES] = { vr: 'IS', Value: [new Set(instances.values()).size] };
        if (wants(query, STUDY_INSTANCES)) match.study[STUDY_INSTANCES] = { vr: 'IS', Value: [instances.size] };
      }
    }
  } else if (query.level === 'series' && match.series && wants(query, SERIES_INSTANCES)) {
    const instances = await unionOfInstances(holders, studyUid, uidAt(match, 'series'), options);
    if (instances) match.series[SERIES_INSTANCES] = { vr: 'IS', Value: [instances.size] };
  }
  return match;
}

/** SOP Instance UID -> Series Instance UID over every holder, or undefined when one failed. */
async function unionOfInstances(holders: DicomStore[], studyUid: string, seriesUid: string | undefined, options: FederatedSearchOptions): Promise<Map<string, string> | undefined> {
  const out = new Map<string, string>();
  try {
    const results = await Promise.all(holders.map((h) => withTimeout(h.search(instanceQuery(studyUid, seriesUid, options.maxMatchesPerMember)), options.timeoutMs, `store "${h.name}"`)));
    for (const result of results) {
      for (const m of result.matches) {
        const sop = uidAt(m, 'instance');
        const series = uidAt(m, 'series') ?? m.instance?.[SERIES_UID]?.Value?.[0];
        if (sop) out.set(sop, typeof series === 'string' ? series : '');
      }
    }
  } catch {
    // Counts stay the preferred member's: better than none.
    return undefined;
  }
  return out;
}
