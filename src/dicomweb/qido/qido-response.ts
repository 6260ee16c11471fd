/**
 * QIDO-RS results -> the DICOM JSON answer (PS3.18 10.6.3.3, Annex F): per result, the attributes
 * of Tables 10.6.3-3/4/5 for its level, every match key and includefield of its level or above,
 * everything the store holds with includefield=all, and the Retrieve URL. Results of /series and
 * /instances also carry the study's attributes (and /instances and /studies/{study}/instances the
 * series'), as 10.6.3.3.2 and 10.6.3.3.3 require when the path does not fix them.
 *
 * Attributes of Type R or U (and every match key and includefield, as C-FIND return keys) are
 * present even without a value, as {"vr": ...}; Type C ones only when known. Specific Character
 * Set is left out: the answer is UTF-8 JSON whatever the stored data's character set, and saying
 * 'ISO 2022 IR 87' next to UTF-8 text would mislead. Bulk data never appears in search results.
 *
 * The columns of the answer are worked out once per query (ResultPlan), in ascending tag order
 * (F.2.2), so each result is written by walking that list; a frozen attribute object is serialized
 * once and its text reused while the store hands out the same object (its caches do).
 */
import { lookupTag } from '../../dicom/dictionary';
import { DicomJsonAttribute, DicomJsonObject } from '../../dicom/dicom-json';
import { stringifyDicomJson } from '../../dicom/dicom-json-stringify';
import { LEVEL_DEPTH, QidoTags, RESULT_ATTRIBUTES, qidoLevelOfTag } from '../../dicom/qido-attributes';
import { hex8 } from '../../dicom/value-decoding';
import { QidoLevel, QidoMatch, QidoQuery } from '../../stores/qido-query';

/** One attribute of every result: where it is read from, and what to write without a value. */
interface Column {
  key: string;
  level: QidoLevel | 'url';
  /** '"KEY":{"vr":"XX"}' when the attribute is required; undefined when it is left out. */
  empty?: string;
}

export interface ResultPlan {
  searched: QidoLevel;
  /** Ascending by tag. */
  columns: Column[];
  /** includefield=all: also every attribute of these levels' objects. */
  all: QidoLevel[];
  /** Equal for plans that write the same columns the same way. */
  signature: string;
}

const SPECIFIC_CHARACTER_SET = hex8(QidoTags.SpecificCharacterSet);
const RETRIEVE_URL = hex8(QidoTags.RetrieveURL);
const LEVELS = ['study', 'series', 'instance'] as const;

const OPEN = Buffer.from('[');
const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']');

export function qidoResponseBody(query: QidoQuery, matches: QidoMatch[], dicomwebBase: string): Buffer {
  const plan = resultPlan(query);
  const parts: Buffer[] = [OPEN];
  for (let k = 0; k < matches.length; k++) {
    if (k > 0) parts.push(COMMA);
    parts.push(
      plan.all.length > 0 ? Buffer.from(stringifyDicomJson(resultObject(plan, matches[k], dicomwebBase))) : writeResult(plan, matches[k], dicomwebBase),
    );
  }
  parts.push(CLOSE);
  return Buffer.concat(parts);
}

export function resultPlan(query: QidoQuery): ResultPlan {
  const searched = query.level;
  const levels = LEVELS.filter((l) => LEVEL_DEPTH[l] <= LEVEL_DEPTH[searched]);
  // Whose default attributes a result carries (10.6.3.3.2, 10.6.3.3.3): its own level's, and the
  // study's and series' when the resource path does not name them.
  const defaultsOf: Record<QidoLevel, boolean> = {
    study: searched === 'study' || query.studyUid === undefined,
    series: searched === 'series' || (searched === 'instance' && query.seriesUid === undefined),
    instance: searched === 'instance',
  };
  const columns = new Map<string, Column>();
  const add = (tag: number, required: boolean) => {
    const key = hex8(tag);
    const level = sourceLevel(tag, searched);
    if (key === SPECIFIC_CHARACTER_SET || LEVEL_DEPTH[level] > LEVEL_DEPTH[searched]) return;
    const vr = lookupTag(tag)?.vr;
    const empty = required && vr ? `"${key}":{"vr":"${vr}"}` : undefined;
    columns.set(key, { key, level, empty: empty ?? columns.get(key)?.empty });
  };
  for (const level of levels) {
    if (defaultsOf[level]) for (const a of RESULT_ATTRIBUTES[level]) add(a.tag, a.required);
  }
  // Match keys and includefields are returned like C-FIND return keys; those of a level below the
  // searched one never are (10.6.3.3.1).
  for (const tag of query.returnTags) add(tag, true);
  columns.set(RETRIEVE_URL, { key: RETRIEVE_URL, level: 'url' });
  const sorted = [...columns.values()].sort((a, b) => (a.key < b.key ? -1 : 1));
  return {
    searched,
    columns: sorted,
    all: query.includeAll ? [...levels] : [],
    signature: `${searched}:${sorted.map((c) => `${c.key}${c.empty ? '!' : ''}`).join(',')}`,
  };
}

/** Where an attribute is read from; Instance Availability is the searched level's. */
function sourceLevel(tag: number, searched: QidoLevel): QidoLevel {
  return tag === QidoTags.InstanceAvailability ? searched : qidoLevelOfTag(tag);
}

interface WrittenResult {
  signature: string;
  study: DicomJsonObject;
  series?: DicomJsonObject;
  /** The result's text before and after the Retrieve URL, which depends on the request. */
  before: string;
  after: string;
  /** The whole result, UTF-8, for the last base URL asked with. */
  base?: string;
  bytes?: Buffer;
}

/** Results already written, by the frozen object of the searched level: a study or series the
 *  store hands out unchanged is written once per plan, not once per search. */
const writtenResults = new WeakMap<DicomJsonObject, WrittenResult>();

function writeResult(plan: ResultPlan, match: QidoMatch, base: string): Buffer {
  const own = match[plan.searched];
  const memoizable = own !== undefined && Object.isFrozen(own) && Object.isFrozen(match.study) && (!match.series || Object.isFrozen(match.series));
  if (!memoizable) {
    const [before, after] = writeAroundUrl(plan, match);
    return Buffer.from(before + urlMember(plan, match, base) + after);
  }
  let written = writtenResults.get(own);
  if (!written || written.signature !== plan.signature || written.study !== match.study || written.series !== match.series) {
    const [before, after] = writeAroundUrl(plan, match);
    written = { signature: plan.signature, study: match.study, series: match.series, before, after };
    writtenResults.set(own, written);
  }
  if (written.base !== base) {
    written.base = base;
    written.bytes = Buffer.from(written.before + urlMember(plan, match, base) + written.after);
  }
  return written.bytes!;
}

function urlMember(plan: ResultPlan, match: QidoMatch, base: string): string {
  return `"${RETRIEVE_URL}":{"vr":"UR","Value":[${JSON.stringify(retrieveUrl(plan.searched, match, base))}]}`;
}

/** '{"00080020":...,' and ',"00100010":...}' around the Retrieve URL, the columns in order. */
function writeAroundUrl(plan: ResultPlan, match: QidoMatch): [string, string] {
  const before: string[] = [];
  const after: string[] = [];
  let part = before;
  for (const column of plan.columns) {
    if (column.level === 'url') {
      part = after;
      continue;
    }
    const attr = match[column.level]?.[column.key];
    const member = attr && attr.BulkDataURI === undefined ? serialized(column.key, attr) : column.empty;
    if (member !== undefined) part.push(member);
  }
  return [`{${before.map((m) => `${m},`).join('')}`, `${after.map((m) => `,${m}`).join('')}}`];
}

/** includefield=all: every attribute of each level's object, then the planned ones. */
function resultObject(plan: ResultPlan, match: QidoMatch, base: string): DicomJsonObject {
  const out: Record<string, DicomJsonAttribute> = {};
  for (const level of plan.all) {
    for (const [key, attr] of Object.entries(match[level] ?? {})) {
      if (attr.BulkDataURI === undefined && key !== SPECIFIC_CHARACTER_SET && sourceLevel(parseInt(key, 16), plan.searched) === level) {
        out[key] = attr;
      }
    }
  }
  for (const column of plan.columns) {
    if (column.level === 'url') {
      out[column.key] = { vr: 'UR', Value: [retrieveUrl(plan.searched, match, base)] };
      continue;
    }
    const attr = match[column.level]?.[column.key];
    if (attr && attr.BulkDataURI === undefined) out[column.key] = attr;
    else if (column.empty !== undefined && !out[column.key]) out[column.key] = { vr: lookupTag(parseInt(column.key, 16))!.vr };
  }
  return out;
}

const serializedAttributes = new WeakMap<DicomJsonAttribute, string>();

/** '"KEY":{...}' of one attribute. A frozen attribute cannot change, so its text is remembered
 *  for as long as the object lives (the store's caches hand out frozen ones). */
function serialized(key: string, attr: DicomJsonAttribute): string {
  if (!Object.isFrozen(attr)) return stringifyDicomJson({ [key]: attr }).slice(1, -1);
  let text = serializedAttributes.get(attr);
  if (text === undefined) {
    text = stringifyDicomJson({ [key]: attr }).slice(1, -1);
    serializedAttributes.set(attr, text);
  }
  return text;
}

const UID_KEYS = { study: hex8(QidoTags.StudyInstanceUID), series: hex8(QidoTags.SeriesInstanceUID), instance: hex8(QidoTags.SOPInstanceUID) };

function retrieveUrl(level: QidoLevel, match: QidoMatch, base: string): string {
  const uid = (l: QidoLevel) => String(match[l]?.[UID_KEYS[l]]?.Value?.[0] ?? '');
  let url = `${base}/studies/${uid('study')}`;
  if (level !== 'study') url += `/series/${uid('series')}`;
  if (level === 'instance') url += `/instances/${uid('instance')}`;
  return url;
}
