/**
 * Canonical forms of attribute values for matching (PS3.4 C.2.2.2), shared by the code that parses
 * query keys and the code that indexes stored values, so that both sides compare the same strings.
 *
 * Dates and times become fixed-width digit strings whose string order is time order, so a range
 * match (C.2.2.2.5) is a string range. A value given with less precision stands for the whole
 * interval it names: the time "07" is 07:00:00.000000 to 07:59:59.999999, the datetime "2024" the
 * whole year. Stored values are indexed by the start of their interval.
 */

/** Inclusive bounds of the interval a DA, TM or DT value names, in canonical form. */
export interface KeyBounds {
  low: string;
  high: string;
}

const DA_PATTERN = /^(\d{4})(\d{2})(\d{2})$/;
const TM_PATTERN = /^(\d{2})(?:(\d{2})(?:(\d{2})(?:\.(\d{1,6}))?)?)?$/;
const DT_PATTERN = /^(\d{4})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:\.(\d{1,6}))?)?)?)?)?)?([+-]\d{4})?$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function validDate(year: string, month: string, day: string): boolean {
  const m = Number(month);
  const d = Number(day);
  return m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(Number(year), m);
}

/** DA (PS3.5 Table 6.2-1): exactly YYYYMMDD, a real calendar date. */
export function dateBounds(value: string): KeyBounds | undefined {
  const m = DA_PATTERN.exec(value);
  if (!m || !validDate(m[1], m[2], m[3])) return undefined;
  return { low: value, high: value };
}

/** TM: HH[MM[SS[.F{1,6}]]] -> 'HHMMSS.FFFFFF' bounds (SS may be 60, a leap second). */
export function timeBounds(value: string): KeyBounds | undefined {
  const m = TM_PATTERN.exec(value);
  if (!m) return undefined;
  const [, hh, mm, ss, frac] = m;
  if (Number(hh) > 23 || (mm !== undefined && Number(mm) > 59) || (ss !== undefined && Number(ss) > 60)) return undefined;
  return {
    low: `${hh}${mm ?? '00'}${ss ?? '00'}.${(frac ?? '').padEnd(6, '0')}`,
    high: `${hh}${mm ?? '59'}${ss ?? '59'}.${frac === undefined ? '999999' : frac.padEnd(6, '9')}`,
  };
}

/**
 * DT: YYYY[MM[DD[HH[MM[SS[.F{1,6}]]]]]][&ZZZZ] -> 'YYYYMMDDHHMMSS.FFFFFF' bounds. A value with a UTC
 * offset is moved to UTC, since "the offset ... shall be taken into account" (PS3.4 C.2.2.2.5.3);
 * one without is taken as written (nothing says which local time it is in).
 */
export function dateTimeBounds(value: string): KeyBounds | undefined {
  const m = DT_PATTERN.exec(value);
  if (!m) return undefined;
  const [, yyyy, mo, dd, hh, mi, ss, frac, offset] = m;
  if (mo !== undefined && (Number(mo) < 1 || Number(mo) > 12)) return undefined;
  if (dd !== undefined && !validDate(yyyy, mo!, dd)) return undefined;
  if ((hh !== undefined && Number(hh) > 23) || (mi !== undefined && Number(mi) > 59) || (ss !== undefined && Number(ss) > 60)) {
    return undefined;
  }
  if (offset !== undefined && (Number(offset.slice(1, 3)) > 14 || Number(offset.slice(3)) > 59)) return undefined;
  const lastDay = mo === undefined ? '31' : String(daysInMonth(Number(yyyy), Number(mo)));
  const bounds = {
    low: `${yyyy}${mo ?? '01'}${dd ?? '01'}${hh ?? '00'}${mi ?? '00'}${ss ?? '00'}.${(frac ?? '').padEnd(6, '0')}`,
    high: `${yyyy}${mo ?? '12'}${dd ?? lastDay}${hh ?? '23'}${mi ?? '59'}${ss ?? '59'}.${frac === undefined ? '999999' : frac.padEnd(6, '9')}`,
  };
  if (offset === undefined) return bounds;
  const minutes = (offset[0] === '-' ? -1 : 1) * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(3)));
  return { low: shiftMinutes(bounds.low, -minutes), high: shiftMinutes(bounds.high, -minutes) };
}

/** 'YYYYMMDDHHMMSS.FFFFFF' moved by whole minutes (the fraction is untouched; a leap second stays). */
function shiftMinutes(key: string, minutes: number): string {
  const n = (from: number, to: number) => Number(key.slice(from, to));
  const t = new Date(0);
  t.setUTCFullYear(n(0, 4), n(4, 6) - 1, n(6, 8)); // not Date.UTC: it reads years 0-99 as 19xx
  t.setUTCHours(n(8, 10), n(10, 12) + minutes);
  if (t.getUTCFullYear() < 0 || t.getUTCFullYear() > 9999) return key;
  const p = (v: number, w = 2) => String(v).padStart(w, '0');
  return `${p(t.getUTCFullYear(), 4)}${p(t.getUTCMonth() + 1)}${p(t.getUTCDate())}${p(t.getUTCHours())}${p(t.getUTCMinutes())}${key.slice(12)}`;
}

export function boundsOf(vr: string, value: string): KeyBounds | undefined {
  if (vr === 'DA') return dateBounds(value);
  if (vr === 'TM') return timeBounds(value);
  if (vr === 'DT') return dateTimeBounds(value);
  return undefined;
}

/**
 * The key a stored DA/TM/DT value is indexed by. Values written in the forms older editions of
 * PS3.5 allowed ('YYYY.MM.DD', 'HH:MM:SS') are read too; anything else is kept as it is (it then
 * matches only itself).
 */
export function storedTemporalKey(vr: string, value: string): string {
  const cleaned = vr === 'DA' ? value.replace(/^(\d{4})\.(\d{2})\.(\d{2})$/, '$1$2$3') : vr === 'TM' ? value.replace(/:/g, '') : value;
  return boundsOf(vr, cleaned)?.low ?? value;
}

/** Numbers (IS, DS and the binary numeric VRs) compare by value: '007', '7' and '7.0' are one key. */
export function numberKey(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value.trim());
    return Number.isFinite(n) ? String(n) : undefined;
  }
  return undefined;
}

/**
 * Upper case, one code point for one code point, so that '?' (exactly one character) still lines
 * up after folding: a character whose upper case is longer ('ß' -> 'SS') is kept as it is.
 */
export function upperCaseSameLength(value: string): string {
  const upper = value.toUpperCase();
  if (upper.length === value.length) return upper; // upper casing never shortens a string
  let out = '';
  for (const c of value) {
    const u = c.toUpperCase();
    out += u.length === c.length ? u : c;
  }
  return out;
}

/** VRs whose values are numbers in DICOM JSON (F.2.3) or text holding a number (IS, DS). */
export const NUMERIC_VRS = new Set(['IS', 'DS', 'US', 'SS', 'UL', 'SL', 'FL', 'FD', 'SV', 'UV']);

/** VRs whose values are bytes, not matchable (PS3.4 C.2.2.2 lists none of them). */
export const BINARY_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);

/** VRs on which '*' and '?' are wild cards (PS3.4 C.2.2.2.4). */
export const WILDCARD_VRS = new Set(['AE', 'CS', 'LO', 'LT', 'PN', 'SH', 'ST', 'UC', 'UR', 'UT']);

/** Single-valued text VRs: a backslash in them is text, not a value delimiter (PS3.5 6.2). */
export const SINGLE_VALUED_TEXT_VRS = new Set(['LT', 'ST', 'UT', 'UR']);
