/**
 * A QIDO-RS search (PS3.18 10.6) as every store receives it: parsed, validated and normalized by
 * dicomweb/qido, independent of HTTP and of how a store keeps its data.
 *
 * Values are already in canonical form (dicom/match-keys.ts): dates and times as inclusive
 * intervals of fixed-width strings, numbers as JS number strings, UIDs checked. Case folding of
 * person names and the meaning of fuzzy matching are the store's, as PS3.4 C.2.2.2.1 leaves them
 * to the implementation.
 */
import { DicomJsonObject } from '../dicom/dicom-json';
import { QueryLevel } from '../dicom/query-levels';

export type QidoLevel = QueryLevel;

/** One way a value may match (PS3.4 C.2.2.2). A condition holds when any of its alternatives does. */
export type ValueMatch =
  /** Single Value Matching (C.2.2.2.1) and List of UID Matching (C.2.2.2.2, one value each). */
  | { kind: 'single'; value: string }
  /** Wild Card Matching (C.2.2.2.4): '*' any run of characters, '?' exactly one. */
  | { kind: 'wildcard'; pattern: string }
  /** Range Matching (C.2.2.2.5) of DA, TM, DT: inclusive, canonical bounds; a missing side is open.
   *  A single DA/TM/DT value arrives as the range of the interval it names. */
  | { kind: 'range'; low?: string; high?: string }
  /** Empty Value Matching (C.2.2.2.7, the value ""): the attribute is absent or has no value. */
  | { kind: 'empty' };

/** An attribute, or one attribute inside the items of a sequence (Sequence Matching, C.2.2.2.6). */
export interface AttributeRef {
  tag: number;
  itemTag?: number;
}

export interface MatchCondition {
  attribute: AttributeRef;
  /** VR of the attribute compared (the item attribute's for a sequence key). */
  vr: string;
  /** Level of the (top-level) attribute; below the searched level it is a relational match. */
  level: QidoLevel;
  /** Never empty: a key without a value (universal matching) is not a condition. */
  anyOf: ValueMatch[];
}

export interface QidoQuery {
  /** What is searched for: studies, series or instances. */
  level: QidoLevel;
  /** From the resource path (/studies/{study}/series/{series}/instances). */
  studyUid?: string;
  seriesUid?: string;
  conditions: MatchCondition[];
  /** Attributes to return beyond the defaults: every includefield and every match key. */
  returnTags: number[];
  /** includefield=all. */
  includeAll: boolean;
  /** fuzzymatching=true: fuzzy semantic matching of person names (PS3.4 C.2.2.2.1). */
  fuzzy: boolean;
  /** At least 1; already capped by the server's maximum. */
  limit: number;
  offset: number;
}

/**
 * One match, as the attributes of each level it belongs to (DICOM JSON, text in UTF-8). Every
 * level object carries its UID; computed attributes (Modalities in Study, the Number of ... Related
 * counts, Instance Availability) are included. A store may return more attributes than asked for;
 * the HTTP layer picks what the answer holds.
 */
export interface QidoMatch {
  study: DicomJsonObject;
  series?: DicomJsonObject;
  instance?: DicomJsonObject;
}

export interface QidoResult {
  /** In a stable order, after offset, at most limit. */
  matches: QidoMatch[];
  /** More matches exist after these. */
  more: boolean;
  /** Conditions the store could not apply and left out (PS3.18 8.3: unsupported keys are
   *  ignored), each with the reason; the answer says so in Warning headers. */
  ignored?: string[];
}
