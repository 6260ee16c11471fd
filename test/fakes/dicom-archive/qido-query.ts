/**
 * QIDO-RS query parameters (PS3.18 8.3.4, 10.6.1) -> a typed query for the fake archive's search.
 * The cloud layer gives the policy: which match keys each level allows, and the limits; everything
 * outside it is refused with ArchiveInvalidQuery naming the culprit, as a strict server would.
 * Values are percent-decoded per RFC 3986: "+" stays a plus sign (it is not a form body).
 */
import { ArchiveInvalidQuery } from './archive-errors';
import { resolveAttribute } from './dicom-tags';

export type QidoLevel = 'studies' | 'series' | 'instances';

export interface QidoScope {
  level: QidoLevel;
  /** From the path: /studies/{study}/series, /studies/{study}/series/{series}/instances, ... */
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
}

export interface MatchKey {
  tag: string;
  vr: string;
  /** The name as the client wrote it, for error messages. */
  name: string;
  /** Empty: universal matching. Several: UID list (repeated or comma-separated values). */
  values: string[];
}

export interface QidoQuery {
  scope: QidoScope;
  keys: MatchKey[];
  includeAll: boolean;
  includeTags: string[];
  fuzzyMatching: boolean;
  limit: number;
  offset: number;
}

export interface QidoQueryPolicy {
  /** Tags allowed as match keys at a level; undefined: any attribute of the dictionary. */
  allowedKeys?(level: QidoLevel): ReadonlySet<string>;
  defaultLimit: number;
  maxLimit: number;
  maxOffset: number;
  maxIncludeFields: number;
}

/** Splits a raw query string into decoded pairs, keeping order and repeats. */
export function parseQueryString(raw: string): [string, string][] {
  const pairs: [string, string][] = [];
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    try {
      pairs.push([decodeURIComponent(name), decodeURIComponent(value)]);
    } catch {
      throw new ArchiveInvalidQuery(`the query parameter "${part}" is not validly percent-encoded`);
    }
  }
  return pairs;
}

function nonNegativeInteger(name: string, value: string): number {
  if (!/^\d+$/.test(value)) throw new ArchiveInvalidQuery(`${name} must be a non-negative integer, not "${value}"`);
  return Number(value);
}

export function parseQidoQuery(pairs: [string, string][], scope: QidoScope, policy: QidoQueryPolicy): QidoQuery {
  let limit = policy.defaultLimit;
  let offset = 0;
  let fuzzyMatching = false;
  let includeAll = false;
  const includeNames = new Set<string>();
  const keys = new Map<string, MatchKey>();
  const allowed = policy.allowedKeys?.(scope.level);

  for (const [name, value] of pairs) {
    switch (name) {
      case 'limit':
        limit = nonNegativeInteger('limit', value);
        if (limit < 1 || limit > policy.maxLimit) throw new ArchiveInvalidQuery(`limit must be between 1 and ${policy.maxLimit}, not ${limit}`);
        continue;
      case 'offset':
        offset = nonNegativeInteger('offset', value);
        if (offset > policy.maxOffset) throw new ArchiveInvalidQuery(`offset must not exceed ${policy.maxOffset}, not ${offset}`);
        continue;
      case 'fuzzymatching':
        if (value !== 'true' && value !== 'false') throw new ArchiveInvalidQuery(`fuzzymatching must be true or false, not "${value}"`);
        fuzzyMatching = value === 'true';
        continue;
      case 'includefield':
        for (const field of value.split(',').map((f) => f.trim()).filter(Boolean)) includeNames.add(field);
        continue;
    }
    const attribute = resolveAttribute(name);
    if (!attribute) throw new ArchiveInvalidQuery(`unknown query key "${name}"`);
    if (allowed && !allowed.has(attribute.tag)) throw new ArchiveInvalidQuery(`"${name}" is not a supported query key for ${scope.level} searches`);
    const values = value === '' ? [] : attribute.vr === 'UI' ? value.split(/[,\\]/).filter(Boolean) : [value];
    const existing = keys.get(attribute.tag);
    if (existing && attribute.vr !== 'UI') throw new ArchiveInvalidQuery(`query key "${name}" must not be repeated`);
    if (existing) existing.values.push(...values);
    else keys.set(attribute.tag, { tag: attribute.tag, vr: attribute.vr, name, values });
  }

  if (includeNames.size > policy.maxIncludeFields) {
    throw new ArchiveInvalidQuery(`at most ${policy.maxIncludeFields} includefield values are allowed, not ${includeNames.size}`);
  }
  const includeTags: string[] = [];
  for (const field of includeNames) {
    if (field === 'all') includeAll = true;
    else {
      // Unknown names and dotted sequence paths are left out silently, as AWS documents.
      const attribute = field.includes('.') ? undefined : resolveAttribute(field);
      if (attribute) includeTags.push(attribute.tag);
    }
  }
  return { scope, keys: [...keys.values()], includeAll, includeTags, fuzzyMatching, limit, offset };
}
