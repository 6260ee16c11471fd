/**
 * Typed reads from a DICOM JSON Model object (PS3.18 F.2), for code that needs a few attributes
 * (indexing, QIDO matching) without caring about how each VR is represented.
 */
import { Tag } from './dataset';
import { DicomJsonAttribute, DicomJsonObject } from './dicom-json';
import { PersonName, formatPersonName } from './person-name';
import { hex8 } from './value-decoding';

/** A tag number (0x00100010) or its DICOM JSON key ('00100010'). */
export type TagRef = Tag | string;

function keyOf(tag: TagRef): string {
  return typeof tag === 'number' ? hex8(tag >>> 0) : tag.toUpperCase();
}

export function getAttribute(obj: DicomJsonObject, tag: TagRef): DicomJsonAttribute | undefined {
  return obj[keyOf(tag)];
}

/** The "Value" array, or undefined for absent, empty, and bulk data attributes. */
export function getValues(obj: DicomJsonObject, tag: TagRef): unknown[] | undefined {
  const values = obj[keyOf(tag)]?.Value;
  return values && values.length > 0 ? values : undefined;
}

function asString(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (isPersonName(v)) return formatPersonName(v);
  return undefined;
}

function asNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  // IS/DS kept as strings (not valid numbers) and SV/UV beyond 2^53 are strings (F.2.3.1).
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function isPersonName(v: unknown): v is PersonName {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && ('Alphabetic' in v || 'Ideographic' in v || 'Phonetic' in v);
}

/** First value as a string: strings as they are, numbers in JS notation, PN in its PS3.5 form
 *  ('Alphabetic=Ideographic=Phonetic'). Undefined when absent, empty or null. */
export function getString(obj: DicomJsonObject, tag: TagRef): string | undefined {
  return asString(getValues(obj, tag)?.[0]);
}

/** All values as strings, keeping positions: an empty (null) value becomes ''. [] when absent. */
export function getStrings(obj: DicomJsonObject, tag: TagRef): string[] {
  return (getValues(obj, tag) ?? []).map((v) => asString(v) ?? '');
}

/** First value as a number (numeric strings included). */
export function getNumber(obj: DicomJsonObject, tag: TagRef): number | undefined {
  return asNumber(getValues(obj, tag)?.[0]);
}

/** All values that are numbers (or numeric strings); empty and non-numeric values are left out. */
export function getNumbers(obj: DicomJsonObject, tag: TagRef): number[] {
  const out: number[] = [];
  for (const v of getValues(obj, tag) ?? []) {
    const n = asNumber(v);
    if (n !== undefined) out.push(n);
  }
  return out;
}

/** First value of a PN attribute. */
export function getPersonName(obj: DicomJsonObject, tag: TagRef): PersonName | undefined {
  const v = getValues(obj, tag)?.[0];
  return isPersonName(v) ? v : undefined;
}

/** Items of a sequence; [] when absent or empty. */
export function getItems(obj: DicomJsonObject, tag: TagRef): DicomJsonObject[] {
  const attr = obj[keyOf(tag)];
  if (!attr || attr.vr !== 'SQ' || !attr.Value) return [];
  return attr.Value.filter((v): v is DicomJsonObject => typeof v === 'object' && v !== null);
}
