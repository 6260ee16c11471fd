/**
 * The rows of the match_keys table for one level of one instance: every value of every attribute,
 * in the canonical form a QIDO condition compares with (dicom/match-keys.ts), so that any key of
 * any level is matched from an index, never by reading JSON.
 *
 * `attribute` names what a row is a key of:
 *   '00100020'           a value of (0010,0020)
 *   '00400275.00400009'  a value of (0040,0009) in an item of (0040,0275) (sequence matching)
 *   '00100010'           PN: each component group, upper case (case-insensitive matching)
 *   '00100010='          PN: the whole value 'A=I=P', upper case (keys that contain '=')
 *   '00100010~'          PN: each word of the name, case and accent folded (fuzzy matching)
 */
import { DicomJsonObject } from '../../dicom/dicom-json';
import { BINARY_VRS, NUMERIC_VRS, numberKey, storedTemporalKey, upperCaseSameLength } from '../../dicom/match-keys';
import { PersonName, formatPersonName } from '../../dicom/person-name';
import { foldText } from '../../dicom/text-fold';

/** The `level` column of match_keys: which table owner_pk points into. */
export const MatchKeyLevel = { study: 0, series: 1, instance: 2 } as const;

export interface MatchKeyRow {
  attribute: string;
  key: string;
}

export interface MatchKeyOptions {
  /** Attributes not indexed here (they have columns of their own, or are never matched). */
  skip: ReadonlySet<string>;
  /** Index the attributes in the items of sequences (one level deep). */
  sequences: boolean;
  /** Only attributes of these VRs (default: every VR that holds text or numbers). */
  vrs?: ReadonlySet<string>;
}

/**
 * The VRs indexed at the instance level: identifiers, codes, dates, times, names, counts. Not the
 * measurements (DS, FL, US, ...: pixel spacing, window, rescale) or narrative text (LT, ST, UT):
 * each indexed value is one more B-tree page written with every stored instance, and nobody
 * searches instances by slice thickness. PS3.4 C.6.1.1.5 makes every such key optional.
 */
export const INSTANCE_INDEXED_VRS: ReadonlySet<string> = new Set(['AE', 'AS', 'AT', 'CS', 'DA', 'DT', 'IS', 'LO', 'PN', 'SH', 'TM', 'UC', 'UI']);

/** Fuzzy matching compares words: runs of letters and digits, folded (Müller-Lüdenscheidt -> MULLER, LUDENSCHEIDT). */
export function nameWords(text: string): string[] {
  return foldText(text)
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 0);
}

export function matchKeyRows(attributes: DicomJsonObject, options: MatchKeyOptions): MatchKeyRow[] {
  const rows: MatchKeyRow[] = [];
  for (const [tag, attr] of Object.entries(attributes)) {
    if (options.skip.has(tag) || BINARY_VRS.has(attr.vr) || (options.vrs && !options.vrs.has(attr.vr))) continue;
    if (attr.vr === 'SQ') {
      if (options.sequences) addItemKeys(rows, tag, attr.Value);
      continue;
    }
    addValueKeys(rows, tag, attr.vr, attr.Value);
  }
  return rows;
}

function addItemKeys(rows: MatchKeyRow[], tag: string, items: unknown[] | undefined): void {
  for (const item of items ?? []) {
    if (!item || typeof item !== 'object') continue;
    for (const [itemTag, attr] of Object.entries(item as DicomJsonObject)) {
      if (attr.vr === 'SQ' || BINARY_VRS.has(attr.vr)) continue;
      addValueKeys(rows, `${tag}.${itemTag}`, attr.vr, attr.Value);
    }
  }
}

function addValueKeys(rows: MatchKeyRow[], attribute: string, vr: string, values: unknown[] | undefined): void {
  for (const value of values ?? []) {
    if (value === null || value === undefined) continue;
    if (vr === 'PN') {
      if (typeof value === 'object') addPersonNameKeys(rows, attribute, value as PersonName);
      continue;
    }
    const key = keyOf(vr, value);
    if (key !== undefined && key !== '') rows.push({ attribute, key });
  }
}

function addPersonNameKeys(rows: MatchKeyRow[], attribute: string, pn: PersonName): void {
  const groups = [pn.Alphabetic, pn.Ideographic, pn.Phonetic].filter((g): g is string => !!g);
  if (groups.length === 0) return;
  for (const group of groups) rows.push({ attribute, key: upperCaseSameLength(group) });
  rows.push({ attribute: `${attribute}=`, key: upperCaseSameLength(formatPersonName(pn)) });
  for (const word of new Set(groups.flatMap(nameWords))) rows.push({ attribute: `${attribute}~`, key: word });
}

function keyOf(vr: string, value: unknown): string | undefined {
  if (NUMERIC_VRS.has(vr)) return numberKey(value) ?? (typeof value === 'string' ? value : undefined);
  if (typeof value !== 'string') return typeof value === 'number' ? String(value) : undefined;
  if (vr === 'DA' || vr === 'TM' || vr === 'DT') return storedTemporalKey(vr, value);
  return value;
}
