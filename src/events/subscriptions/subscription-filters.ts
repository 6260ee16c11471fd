/**
 * Which study events a subscription receives, beyond their type.
 *
 * Semantics (every filter present must hold; an absent filter holds for every event):
 * - `stores`: the event's store is one of these (exact: store names are identities).
 * - `modalities`, `bodyParts`, `stations`: at least one of the study's values (event.modalities,
 *   event.bodyParts, event.stations) is one of these, compared case-insensitively and trimmed
 *   ("ct" matches "CT"). A study without any such value matches none.
 * - `sopClasses`: at least one of the study's SOP Class UIDs is one of these (exact).
 * - `priorities`: the study's priority (event.priority) is one of these; STAT, HIGH, ROUTINE or
 *   LOW, case-insensitive (stored upper case).
 * - `attributes`: keyword ("StudyDescription") or tag ("00081030") -> regular expression source;
 *   each must match (case-insensitively, anywhere unless anchored) at least one value of that
 *   attribute in the instance sample of the facts (the same matching as the edge's routing
 *   conditions, dicom/instance-conditions.ts: top-level attributes only, person names by their
 *   Alphabetic group). Without a sample, an attribute filter does not hold.
 *
 * Filters are validated when a subscription is created or changed (`parseFilters`): an unknown
 * key, an empty list, an unknown attribute name, or a regular expression that does not compile is
 * a 400, never a subscription that silently matches nothing.
 */
import { matchesConditions, attributeKey } from '../../dicom/instance-conditions';
import { PRIORITY_LEVELS } from '../../dicom/priority';
import { BadRequest } from '../../dicomweb/errors';
import { StudyFacts } from '../study-event';

export interface SubscriptionFilters {
  stores?: string[];
  modalities?: string[];
  bodyParts?: string[];
  sopClasses?: string[];
  stations?: string[];
  priorities?: string[];
  /** Keyword or tag -> regular expression source. */
  attributes?: Record<string, string>;
}

const LIST_KEYS = ['stores', 'modalities', 'bodyParts', 'sopClasses', 'stations', 'priorities'] as const;
type ListKey = (typeof LIST_KEYS)[number];
export const FILTER_KEYS: readonly string[] = [...LIST_KEYS, 'attributes'];

const MAX_VALUES = 100;
const MAX_VALUE_LENGTH = 256;
const MAX_ATTRIBUTES = 32;
const MAX_PATTERN_LENGTH = 1024;

/** Filters ready to match: the attribute patterns compiled. */
export interface CompiledFilters {
  filters: SubscriptionFilters;
  attributes?: Record<string, RegExp>;
}

/**
 * Checks and normalises filters given by a client (values trimmed, priorities upper case,
 * duplicates removed, attribute patterns compiled once to prove they compile). Every problem found
 * is reported in the one BadRequest thrown, prefixed with `field`.
 */
export function parseFilters(input: unknown, field = 'filters'): SubscriptionFilters {
  const problems: string[] = [];
  const filters = collectFilters(input, field, problems);
  if (problems.length > 0) throw new BadRequest(problems.join('; '));
  return filters;
}

/** As parseFilters, adding its problems to `problems` instead of throwing. */
export function collectFilters(input: unknown, field: string, problems: string[]): SubscriptionFilters {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    problems.push(`${field}: expected an object with any of ${FILTER_KEYS.join(', ')}`);
    return {};
  }
  const out: SubscriptionFilters = {};
  for (const [key, value] of Object.entries(input as Record<string, unknown>)) {
    if (value === undefined) continue;
    if ((LIST_KEYS as readonly string[]).includes(key)) {
      const list = parseList(value, `${field}.${key}`, problems);
      if (list === undefined) continue;
      if (key === 'priorities') {
        const upper = [...new Set(list.map((p) => p.toUpperCase()))];
        const unknown = upper.filter((p) => !(PRIORITY_LEVELS as readonly string[]).includes(p));
        if (unknown.length > 0) problems.push(`${field}.priorities: unknown priority ${unknown.map((p) => JSON.stringify(p)).join(', ')}; expected ${PRIORITY_LEVELS.join(', ')}`);
        else out.priorities = upper;
      } else {
        out[key as ListKey] = list;
      }
    } else if (key === 'attributes') {
      const attributes = parseAttributes(value, `${field}.attributes`, problems);
      if (attributes !== undefined) out.attributes = attributes;
    } else {
      problems.push(`${field}: unknown filter "${key.slice(0, 50)}"; expected any of ${FILTER_KEYS.join(', ')}`);
    }
  }
  return out;
}

function parseList(value: unknown, field: string, problems: string[]): string[] | undefined {
  if (!Array.isArray(value)) {
    problems.push(`${field}: expected an array of strings`);
    return undefined;
  }
  if (value.length === 0) {
    problems.push(`${field}: must not be empty (leave the filter out to match every event)`);
    return undefined;
  }
  if (value.length > MAX_VALUES) {
    problems.push(`${field}: at most ${MAX_VALUES} values`);
    return undefined;
  }
  const out: string[] = [];
  for (const v of value) {
    if (typeof v !== 'string' || v.trim() === '' || v.length > MAX_VALUE_LENGTH) {
      problems.push(`${field}: every value must be a non-empty string of at most ${MAX_VALUE_LENGTH} characters`);
      return undefined;
    }
    if (!out.includes(v.trim())) out.push(v.trim());
  }
  return out;
}

function parseAttributes(value: unknown, field: string, problems: string[]): Record<string, string> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push(`${field}: expected an object of keyword or tag -> regular expression`);
    return undefined;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) {
    problems.push(`${field}: must not be empty (leave the filter out to match every event)`);
    return undefined;
  }
  if (entries.length > MAX_ATTRIBUTES) {
    problems.push(`${field}: at most ${MAX_ATTRIBUTES} attributes`);
    return undefined;
  }
  const out: Record<string, string> = {};
  let ok = true;
  for (const [name, source] of entries) {
    const label = `${field}.${name.slice(0, 64)}`;
    if (attributeKey(name) === undefined) {
      problems.push(`${label}: not a DICOM keyword or an 8-digit hexadecimal tag`);
      ok = false;
    } else if (typeof source !== 'string' || source === '' || source.length > MAX_PATTERN_LENGTH) {
      problems.push(`${label}: expected a regular expression of 1 to ${MAX_PATTERN_LENGTH} characters`);
      ok = false;
    } else {
      try {
        compilePattern(source);
        out[name] = source;
      } catch (e) {
        problems.push(`${label}: invalid regular expression: ${(e as Error).message}`);
        ok = false;
      }
    }
  }
  return ok ? out : undefined;
}

function compilePattern(source: string): RegExp {
  return new RegExp(source, 'i');
}

/** Compiles stored (already validated) filters for matching. */
export function compileFilters(filters: SubscriptionFilters): CompiledFilters {
  if (!filters.attributes) return { filters };
  const attributes: Record<string, RegExp> = {};
  for (const [name, source] of Object.entries(filters.attributes)) attributes[name] = compilePattern(source);
  return { filters, attributes };
}

export function filtersMatch(compiled: CompiledFilters, facts: StudyFacts): boolean {
  const { filters } = compiled;
  const event = facts.event;
  if (filters.stores && !filters.stores.includes(event.store)) return false;
  if (filters.modalities && !overlaps(event.modalities, filters.modalities)) return false;
  if (filters.bodyParts && !overlaps(event.bodyParts, filters.bodyParts)) return false;
  if (filters.stations && !overlaps(event.stations, filters.stations)) return false;
  if (filters.sopClasses && !event.sopClassUids.some((uid) => filters.sopClasses!.includes(uid.trim()))) return false;
  if (filters.priorities && !filters.priorities.includes(String(event.priority ?? '').trim().toUpperCase())) return false;
  if (compiled.attributes) {
    if (!facts.sample) return false;
    if (!matchesConditions(facts.sample, { attributes: compiled.attributes })) return false;
  }
  return true;
}

function overlaps(values: readonly string[] | undefined, wanted: readonly string[]): boolean {
  const set = new Set(wanted.map(normal));
  return (values ?? []).some((v) => set.has(normal(v)));
}

function normal(value: string): string {
  return value.trim().toUpperCase();
}
