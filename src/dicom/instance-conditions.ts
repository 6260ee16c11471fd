/**
 * Does an instance (its DICOM JSON, PS3.18 F.2) meet an operator's conditions? Used by the edge for
 * both routing (which destination takes it) and priority rules (which instance is STAT), so the
 * two always agree on what "matches" means.
 *
 * Only top-level attributes are looked at: a value nested in a sequence item may describe another
 * study (a referenced prior, a request of another procedure), not this instance.
 */
import { DicomJsonObject } from './dicom-json';
import { parseAttributeName } from './dictionary';
import { formatPersonName, PersonName } from './person-name';
import { hex8 } from './value-decoding';

/**
 * The same shape as `InstanceConditions` in config/edge-config.ts: dicom/ may not import config/,
 * and TypeScript's structural typing makes the two interchangeable (a change to one that the other
 * does not follow fails to compile where config values are passed in, e.g. forwarding/routing.ts).
 * Every condition given must hold; an empty object holds for everything.
 */
export interface InstanceConditions {
  /** Modality (0008,0060) is one of these (case-insensitive). */
  modality?: readonly string[];
  /** The client that sent the instance is one of these (exact: it is an identity, not a value). */
  callingClient?: readonly string[];
  /** Station Name (0008,1010) is one of these (case-insensitive). */
  station?: readonly string[];
  /** Keyword ("StudyDescription") or tag ("00081030") -> regular expression that at least one
   *  value must match. */
  attributes?: Readonly<Record<string, RegExp>>;
}

const MODALITY = '00080060';
const STATION_NAME = '00081010';

export function matchesConditions(metadata: DicomJsonObject, conditions: InstanceConditions, callingClient?: string): boolean {
  if (conditions.modality && !oneOf(attributeValues(metadata, MODALITY), conditions.modality)) return false;
  if (conditions.station && !oneOf(attributeValues(metadata, STATION_NAME), conditions.station)) return false;
  if (conditions.callingClient && (callingClient === undefined || !conditions.callingClient.includes(callingClient))) return false;
  for (const [name, pattern] of Object.entries(conditions.attributes ?? {})) {
    const key = attributeKey(name);
    // An unknown name cannot be met; the config loader rejects such names before they get here.
    if (key === undefined) return false;
    if (!attributeValues(metadata, key).some((v) => test(pattern, v))) return false;
  }
  return true;
}

/** "StudyDescription" or "00081030" (any case) -> the DICOM JSON key "00081030"; undefined when it
 *  is neither a dictionary keyword nor 8 hex digits. */
export function attributeKey(name: string): string | undefined {
  const tag = parseAttributeName(name);
  return tag === undefined ? undefined : hex8(tag);
}

/** Short text for logs and priority reasons: "modality CT,MR, station CT01, StudyDescription /stroke|code/". */
export function describeConditions(conditions: InstanceConditions): string {
  const parts: string[] = [];
  if (conditions.modality) parts.push(`modality ${conditions.modality.join(',')}`);
  if (conditions.station) parts.push(`station ${conditions.station.join(',')}`);
  if (conditions.callingClient) parts.push(`callingClient ${conditions.callingClient.join(',')}`);
  for (const [name, pattern] of Object.entries(conditions.attributes ?? {})) parts.push(`${name} /${pattern.source}/`);
  return parts.length > 0 ? parts.join(', ') : 'any instance';
}

/**
 * The values of a top-level attribute as text: strings as they are, numbers in JS notation, PN by
 * their Alphabetic group (what operators write, "Doe^John"; the full PS3.5 form only when there is
 * no Alphabetic group). Empty (null) values, sequences and binary values give nothing to match.
 */
function attributeValues(metadata: DicomJsonObject, key: string): string[] {
  const out: string[] = [];
  for (const v of metadata[key]?.Value ?? []) {
    if (typeof v === 'string') out.push(v);
    else if (typeof v === 'number') out.push(String(v));
    else if (isPersonName(v)) out.push(v.Alphabetic ?? formatPersonName(v));
  }
  return out;
}

function isPersonName(v: unknown): v is PersonName {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && ('Alphabetic' in v || 'Ideographic' in v || 'Phonetic' in v);
}

function oneOf(values: string[], wanted: readonly string[]): boolean {
  return values.some((v) => wanted.some((w) => w.trim().toUpperCase() === v.trim().toUpperCase()));
}

/** A pattern compiled with the g or y flag keeps its position between calls to test(); start each
 *  test from the beginning so that the same instance always gives the same answer. */
function test(pattern: RegExp, value: string): boolean {
  pattern.lastIndex = 0;
  return pattern.test(value);
}
