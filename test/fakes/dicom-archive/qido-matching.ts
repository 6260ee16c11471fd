/**
 * C-FIND style matching of one QIDO key against one attribute (PS3.4 C.2.2.2): universal, single
 * value, wildcards (* and ?), UID lists, DA/TM/DT ranges, person names case-insensitively and, with
 * fuzzymatching=true, as a word-prefix match (the form AWS HealthImaging and Azure document): each
 * word of the query starts a word of the name ("Thomas^Albert" matches "thomas", "Albert", not "hom").
 */
import { DicomJsonAttribute } from './dicom-json';
import { MatchKey } from './qido-query';

const DATE_TIME_VRS = new Set(['DA', 'TM', 'DT']);
const NUMERIC_VRS = new Set(['IS', 'DS', 'US', 'SS', 'UL', 'SL', 'FL', 'FD', 'SV', 'UV']);

export function matchesKey(attribute: DicomJsonAttribute | undefined, key: MatchKey, fuzzy: boolean): boolean {
  if (key.values.length === 0) return true;
  const values = (attribute?.Value ?? []).filter((v) => v !== null && v !== undefined);
  if (values.length === 0) return false;
  if (key.vr === 'UI') return values.some((v) => key.values.includes(String(v)));
  const query = key.values[0];
  if (key.vr === 'PN') return values.some((v) => matchesPersonName(personNameText(v), query, fuzzy));
  if (DATE_TIME_VRS.has(key.vr)) return values.some((v) => matchesDateTime(String(v), query, key.vr));
  if (hasWildcard(query)) return values.some((v) => wildcardRegExp(query, false).test(String(v)));
  if (NUMERIC_VRS.has(key.vr)) {
    const n = Number(query);
    return values.some((v) => Number(v) === n);
  }
  return values.some((v) => String(v) === query);
}

function personNameText(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  const groups = value as { Alphabetic?: string; Ideographic?: string; Phonetic?: string };
  return [groups.Alphabetic, groups.Ideographic, groups.Phonetic].filter((g): g is string => typeof g === 'string');
}

function matchesPersonName(names: string[], query: string, fuzzy: boolean): boolean {
  if (hasWildcard(query)) return names.some((n) => wildcardRegExp(query, true).test(n));
  if (fuzzy) {
    const wanted = words(query);
    return names.some((n) => {
      const have = words(n);
      return wanted.every((w) => have.some((h) => h.startsWith(w)));
    });
  }
  return names.some((n) => n.toLowerCase() === query.toLowerCase());
}

function words(text: string): string[] {
  return text.toLowerCase().split(/[\^\s=,]+/).filter(Boolean);
}

function hasWildcard(query: string): boolean {
  return query.includes('*') || query.includes('?');
}

function wildcardRegExp(query: string, caseInsensitive: boolean): RegExp {
  const pattern = query.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${pattern}$`, caseInsensitive ? 'is' : 's');
}

/** Compares dates/times as fixed-width digit strings: "0930" and "093000.5" line up. */
function normalize(value: string, vr: string, end: boolean): string {
  const digits = value.replace(/[&+-]\d{4}$/, '').replace(/[^0-9.]/g, '');
  const [whole, fraction = ''] = digits.split('.');
  const width = vr === 'DA' ? 8 : vr === 'TM' ? 6 : 14;
  const filler = end ? '9' : '0';
  // An open end bound such as "-1200" means up to and including 12:00:00, not 12:59.
  const paddedWhole = (whole + (end && vr !== 'DA' ? '0'.repeat(width) : filler.repeat(width))).slice(0, width);
  return vr === 'DA' ? paddedWhole : `${paddedWhole}.${(fraction + (end ? '999999' : '000000')).slice(0, 6)}`;
}

function matchesDateTime(value: string, query: string, vr: string): boolean {
  const dash = vr === 'DT' ? query.search(/-(?!\d{4}$)/) : query.indexOf('-');
  if (dash < 0) return normalize(value, vr, false) === normalize(query, vr, false);
  const from = query.slice(0, dash);
  const to = query.slice(dash + 1);
  const v = normalize(value, vr, false);
  if (from !== '' && v < normalize(from, vr, false)) return false;
  if (to !== '' && v > normalize(to, vr, true)) return false;
  return true;
}
