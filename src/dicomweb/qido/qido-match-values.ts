/**
 * One match key of a QIDO-RS request ({attributeID}={value}, PS3.18 8.3.4.1) -> a MatchCondition,
 * by the matching rules of PS3.4 C.2.2.2 for the attribute's VR:
 *
 *   ''                   Universal Matching: no condition, the attribute is returned (C.2.2.2.3)
 *   'a,b' or 'a\b' (UI)  List of UID Matching (C.2.2.2.2; commas per the uid-list-match of 8.3.4.1)
 *   'CT\MR'              Modalities in Study: studies with any of them (as archives commonly read it)
 *   '*', '?'             Wild Card Matching on AE CS LO LT PN SH ST UC UR UT (C.2.2.2.4)
 *   'a-b', 'a-', '-b'    Range Matching on DA TM DT (C.2.2.2.5); a single value is its own interval
 *   '""'                 with emptyvaluematching=true (8.3.4.5): Empty Value Matching (C.2.2.2.7)
 *   'a\b'                with multiplevaluematching=true (8.3.4.6): any of them (C.2.2.2.8)
 *
 * Without those two parameters '""' and a backslash are literal text, as 8.3.4.5/8.3.4.6 say.
 *
 * Values that cannot mean anything for the VR (a date that is not one, a number that is not one,
 * a UID with letters) are refused with the reason, not silently matched against nothing.
 */
import { lookupTag } from '../../dicom/dictionary';
import {
  BINARY_VRS,
  NUMERIC_VRS,
  SINGLE_VALUED_TEXT_VRS,
  WILDCARD_VRS,
  boundsOf,
  numberKey,
} from '../../dicom/match-keys';
import { QidoTags, qidoLevelOfTag } from '../../dicom/qido-attributes';
import { isValidUid } from '../../dicom/uid';
import { AttributeRef, MatchCondition, QidoLevel, ValueMatch } from '../../stores/qido-query';
import { InvalidQuery } from '../errors';

const TEMPORAL_NAMES: Record<string, string> = { DA: 'date (YYYYMMDD)', TM: 'time (HH[MM[SS[.F]]])', DT: 'date-time (YYYY[MM[DD[HH[MM[SS[.F]]]]]][&ZZZZ])' };

export interface MatchingOptions {
  /** emptyvaluematching=true */
  emptyValue: boolean;
  /** multiplevaluematching=true */
  multipleValue: boolean;
}

/** Universal matching (no condition) is `undefined`. `name` is the parameter as sent, for messages. */
export function parseCondition(
  ref: AttributeRef,
  raw: string,
  name: string,
  searched: QidoLevel,
  options: MatchingOptions,
): MatchCondition | undefined {
  const top = lookupTag(ref.tag);
  if (!top) throw new InvalidQuery(`${name}: the data dictionary does not know this attribute`);
  const item = ref.itemTag === undefined ? undefined : lookupTag(ref.itemTag);
  if (ref.itemTag !== undefined && !item) throw new InvalidQuery(`${name}: unknown attribute inside the sequence`);
  const level = ref.tag === QidoTags.InstanceAvailability ? searched : qidoLevelOfTag(ref.tag);
  const vr = item?.vr ?? top.vr;
  if (raw === '') return undefined;

  if (ref.tag === QidoTags.RetrieveURL) throw new InvalidQuery(`${name}: Retrieve URL is returned, not matched`);
  if (ref.itemTag !== undefined) {
    if (top.vr !== 'SQ') throw new InvalidQuery(`${name}: ${top.keyword} is not a sequence`);
    if (level === 'instance') {
      throw new InvalidQuery(`${name}: sequence matching is supported on study and series attributes, not on instance attributes`);
    }
  }
  if (vr === 'SQ') throw new InvalidQuery(`${name}: a sequence is matched through an attribute of its items, e.g. ${top.keyword}.{attribute}`);
  if (BINARY_VRS.has(vr)) throw new InvalidQuery(`${name}: attributes of VR ${vr} hold bytes and cannot be matched`);

  if (raw === '""' && options.emptyValue) return { attribute: ref, vr, level, anyOf: [{ kind: 'empty' }] };
  const anyOf: ValueMatch[] = [];
  for (const piece of splitValues(raw, vr, ref, options.multipleValue)) {
    if (piece === '') throw new InvalidQuery(`${name}: "${raw.slice(0, 80)}" has an empty value in its list`);
    const match = valueMatch(piece, vr, name);
    if (match === undefined) return undefined; // '*': Universal Matching (C.2.2.2.4 note)
    anyOf.push(match);
  }
  return { attribute: ref, vr, level, anyOf };
}

function splitValues(raw: string, vr: string, ref: AttributeRef, multipleValue: boolean): string[] {
  if (vr === 'UI') return raw.split(/[\\,]/);
  if (ref.tag === QidoTags.ModalitiesInStudy && ref.itemTag === undefined) return raw.split('\\');
  if (!multipleValue || SINGLE_VALUED_TEXT_VRS.has(vr)) return [raw];
  return raw.split('\\');
}

function valueMatch(piece: string, vr: string, name: string): ValueMatch | undefined {
  if (vr === 'DA' || vr === 'TM' || vr === 'DT') return temporalMatch(piece, vr, name);
  if (vr === 'UI') {
    if (!isValidUid(piece)) throw new InvalidQuery(`${name}: "${piece.slice(0, 80)}" is not a valid UID`);
    return { kind: 'single', value: piece };
  }
  if (NUMERIC_VRS.has(vr)) {
    const key = numberKey(piece);
    if (key === undefined) throw new InvalidQuery(`${name}: "${piece.slice(0, 80)}" is not a number`);
    return { kind: 'single', value: key };
  }
  if (vr === 'AT') {
    if (!/^[0-9A-Fa-f]{8}$/.test(piece)) throw new InvalidQuery(`${name}: "${piece.slice(0, 80)}" is not a tag (8 hex digits)`);
    return { kind: 'single', value: piece.toUpperCase() };
  }
  if (WILDCARD_VRS.has(vr) && /[*?]/.test(piece)) {
    return /^\*+$/.test(piece) ? undefined : { kind: 'wildcard', pattern: piece };
  }
  return { kind: 'single', value: piece };
}

/**
 * A DA, TM or DT value or range. In DT a '-' may also start a UTC offset ('20240101120000-0500'),
 * so every '-' is tried as the range separator and the first split whose sides both parse wins.
 */
function temporalMatch(text: string, vr: string, name: string): ValueMatch {
  const whole = boundsOf(vr, text);
  if (whole) return { kind: 'range', low: whole.low, high: whole.high };
  for (let i = text.indexOf('-'); i >= 0; i = text.indexOf('-', i + 1)) {
    const left = text.slice(0, i);
    const right = text.slice(i + 1);
    if (left === '' && right === '') break;
    const low = left === '' ? undefined : boundsOf(vr, left);
    const high = right === '' ? undefined : boundsOf(vr, right);
    if ((left === '' || low) && (right === '' || high)) return { kind: 'range', low: low?.low, high: high?.high };
  }
  throw new InvalidQuery(`${name}: "${text.slice(0, 80)}" is not a ${TEMPORAL_NAMES[vr]} or a range of them (PS3.4 C.2.2.2.5)`);
}
