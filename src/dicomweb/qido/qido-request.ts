/**
 * A QIDO-RS request (PS3.18 10.6.1: resource path + query parameters of 8.3.4) -> a validated
 * QidoQuery. Anything that cannot be understood is an InvalidQuery (400) naming the parameter:
 * an unknown attribute, a value that is not one for its VR, limit/offset that are not counts,
 * fuzzymatching other than true/false, a bad percent-encoding.
 */
import { parseAttributeName } from '../../dicom/dictionary';
import { QidoTags } from '../../dicom/qido-attributes';
import { isValidUid } from '../../dicom/uid';
import { AttributeRef, MatchCondition, QidoLevel, QidoQuery } from '../../stores/qido-query';
import { InvalidQuery } from '../errors';
import { parseCondition } from './qido-match-values';
import { parseQueryString } from './query-parameters';

export interface QidoPath {
  studyUid?: string;
  seriesUid?: string;
}

export interface QidoLimits {
  /** Results when the request names no limit. */
  defaultLimit: number;
  /** The most results one answer holds. */
  maxLimit: number;
}

export interface ParsedQidoRequest {
  query: QidoQuery;
  /** The server chose the limit (none asked, or more than its maximum): if more results exist,
   *  the answer says so (PS3.18 8.3.4.4). */
  serverLimited: boolean;
  /** Parameters understood but not acted on, for Warning headers (PS3.18 8.3: an origin server
   *  ignores the query parameters it does not support, and may say so). */
  ignored: string[];
}

const COUNT = /^\d{1,15}$/;

export function parseQidoRequest(level: QidoLevel, path: QidoPath, rawQuery: string, limits: QidoLimits): ParsedQidoRequest {
  for (const [what, uid] of [['Study', path.studyUid], ['Series', path.seriesUid]] as const) {
    if (uid !== undefined && !isValidUid(uid)) throw new InvalidQuery(`"${uid.slice(0, 80)}" is not a valid ${what} Instance UID`);
  }
  let limit: number | undefined;
  let offset: number | undefined;
  const flags = new Map<string, boolean>(); // fuzzymatching, emptyvaluematching, multiplevaluematching
  let includeAll = false;
  const returnTags = new Set<number>();
  const keys = new Map<string, { ref: AttributeRef; name: string; value: string }>();

  for (const { name, value } of parseQueryString(rawQuery)) {
    switch (name) {
      case 'limit':
        if (limit !== undefined) throw new InvalidQuery('limit is given more than once');
        limit = count(name, value);
        if (limit < 1) throw new InvalidQuery('limit must be at least 1');
        break;
      case 'offset':
        if (offset !== undefined) throw new InvalidQuery('offset is given more than once');
        offset = count(name, value);
        break;
      case 'fuzzymatching':
      case 'emptyvaluematching':
      case 'multiplevaluematching':
        if (flags.has(name)) throw new InvalidQuery(`${name} is given more than once`);
        if (value !== 'true' && value !== 'false') throw new InvalidQuery(`${name} must be true or false, not "${value.slice(0, 40)}"`);
        flags.set(name, value === 'true');
        break;
      case 'includefield':
        // A comma-separated list, or the parameter repeated (PS3.18 8.3.4.3).
        for (const field of value.split(',')) {
          if (field === 'all') includeAll = true;
          else returnTags.add(attributeRef(field, 'includefield').tag);
        }
        break;
      default: {
        const ref = attributeRef(name, 'match key');
        const id = `${ref.tag}.${ref.itemTag ?? ''}`;
        // "Each attribute in the Query Parameter shall not be repeated" (PS3.18 8.3.4.1); lists of
        // UIDs are one comma-separated value.
        if (keys.has(id)) throw new InvalidQuery(`${name} is given more than once; list UIDs in one value, separated by commas`);
        keys.set(id, { ref, name, value });
      }
    }
  }

  const conditions: MatchCondition[] = [];
  const ignored: string[] = [];
  for (const { ref, name, value } of keys.values()) {
    // Never matched, and the answer is UTF-8 whatever the data's character set (PS3.4 C.2.2.2).
    if (ref.tag === QidoTags.SpecificCharacterSet) continue;
    returnTags.add(ref.tag);
    if (isPrivate(ref)) {
      if (value !== '') ignored.push(`${name}: matching on private attributes is not supported; the key was ignored`);
      continue;
    }
    if (value !== '' && ref.tag === QidoTags.TimezoneOffsetFromUTC && ref.itemTag === undefined) {
      ignored.push(`${name}: dates and times are compared as written, not adjusted to the given timezone`);
      continue;
    }
    const condition = parseCondition(ref, value, name, level, {
      emptyValue: flags.get('emptyvaluematching') ?? false,
      multipleValue: flags.get('multiplevaluematching') ?? false,
    });
    if (condition) conditions.push(condition);
  }

  const asked = limit;
  const effectiveLimit = Math.min(asked ?? limits.defaultLimit, limits.maxLimit);
  return {
    query: {
      level,
      studyUid: path.studyUid,
      seriesUid: path.seriesUid,
      conditions,
      returnTags: [...returnTags],
      includeAll,
      fuzzy: flags.get('fuzzymatching') ?? false,
      limit: effectiveLimit,
      offset: offset ?? 0,
    },
    serverLimited: asked === undefined || asked > limits.maxLimit,
    ignored,
  };
}

function isPrivate(ref: AttributeRef): boolean {
  return ((ref.tag >>> 16) & 1) === 1 || (ref.itemTag !== undefined && ((ref.itemTag >>> 16) & 1) === 1);
}

function count(name: string, value: string): number {
  if (!COUNT.test(value)) throw new InvalidQuery(`${name} must be a whole number, not "${value.slice(0, 40)}"`);
  return Number(value);
}

/** 'PatientID', '00100020', or one item level deep 'RequestAttributesSequence.ScheduledProcedureStepID'. */
function attributeRef(text: string, role: string): AttributeRef {
  const parts = text.split('.');
  if (text === '' || parts.length > 2) {
    throw new InvalidQuery(
      text === '' ? `an empty ${role}` : `${role} "${text.slice(0, 80)}": attributes nested deeper than one sequence item are not supported`,
    );
  }
  const tags = parts.map((p) => parseAttributeName(p));
  if (tags.some((t) => t === undefined)) {
    throw new InvalidQuery(`${role} "${text.slice(0, 80)}" is not a known attribute keyword or tag (GGGGEEEE)`);
  }
  return parts.length === 2 ? { tag: tags[0]!, itemTag: tags[1]! } : { tag: tags[0]! };
}
