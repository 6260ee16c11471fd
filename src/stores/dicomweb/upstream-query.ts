/**
 * A QidoQuery (parsed, validated and percent-decoded at the gateway) -> the query string an
 * upstream DICOMweb server understands.
 *
 * - Standard upstreams get every value percent-encoded (RFC 3986, PS3.18 8.3.4.1), lists of values
 *   with multiplevaluematching=true, empty values with emptyvaluematching=true.
 * - Upstreams that do not percent-decode (Orthanc matches 'Wang%5E*' literally) get values raw.
 *   What cannot travel raw in a request target (spaces, non-ASCII letters, '&', '#', '%', '=') is
 *   widened to '*' on the wildcard VRs (so 'Müller*' is asked as 'M*ller*'), and lists and empty
 *   values, which such an upstream does not understand either, are not sent at all; those
 *   conditions are then matched at the gateway (qido-post-filter.ts) on the upstream's answer.
 *
 * Ranges of dates and times are written back in DICOM form from their canonical bounds.
 */
import { describeTag } from '../../dicom/dictionary';
import { WILDCARD_VRS } from '../../dicom/match-keys';
import { LEVEL_DEPTH } from '../../dicom/qido-attributes';
import { hex8 } from '../../dicom/value-decoding';
import { MatchCondition, QidoLevel, QidoQuery, ValueMatch } from '../qido-query';
import { UnsupportedSearch } from '../store-errors';

/** What an upstream can be asked in a search, beyond what every DICOMweb server understands. */
export interface UpstreamQueryRules {
  /** Percent-encode values (RFC 3986); false for upstreams that do not decode them (Orthanc). */
  percentEncode: boolean;
  /** Whether the upstream matches on this attribute in a search of `searched` results (a sequence
   *  key: its top-level tag); absent: every key. Other conditions are matched at the gateway when
   *  the results carry the attribute, else the search is refused (UnsupportedSearch). */
  supportsKey?: (tag: number, searched: QidoLevel, sequence: boolean) => boolean;
  /** Most includefield values per request; beyond, includefield=all is asked (a superset). */
  maxIncludeFields?: number;
  /** false: the upstream does not do Wild Card Matching, so wildcard values are matched at the
   *  gateway (or refused, as unsupported keys are). */
  wildcards?: boolean;
  /** The store's name in refusals ("HealthImaging store ahi"). */
  describe?: string;
}

export interface UpstreamQueryPlan {
  /** 'name=value' pairs, encoded, without limit and offset. */
  params: string[];
  /** Conditions the upstream was not given exactly: matched at the gateway on its answer. */
  atGateway: MatchCondition[];
  /** For the answer's Warning headers. */
  notes: string[];
}

/** Characters an upstream that does not percent-decode receives as they are. */
const RAW_SAFE = /^[A-Za-z0-9\-._~!$'()*+,;:@/?^]*$/;
const RAW_UNSAFE_RUN = /[^A-Za-z0-9\-._~!$'()*+,;:@/?^]+/g;

export function planUpstreamQuery(query: QidoQuery, rules: UpstreamQueryRules): UpstreamQueryPlan {
  const percentEncode = rules.percentEncode;
  const params: string[] = [];
  const atGateway: MatchCondition[] = [];
  const notes: string[] = [];
  const includes = new Set<string>(query.returnTags.map(hex8));
  let multipleValues = false;
  let emptyValues = false;
  const encode = (text: string) => (percentEncode ? encodeURIComponent(text) : text);

  for (const condition of query.conditions) {
    const name = keyName(condition);
    const values = condition.anyOf.map((m) => valueText(m, condition.vr));
    // A condition on the result's own levels can be matched at the gateway; a relational one
    // (a series key on a study search) and a sequence key can only be left to the upstream.
    const checkable = LEVEL_DEPTH[condition.level] <= LEVEL_DEPTH[query.level] && condition.attribute.itemTag === undefined;
    const isList = values.length > 1 && condition.vr !== 'UI';
    const isEmpty = condition.anyOf.some((m) => m.kind === 'empty');
    const keyUnsupported = rules.supportsKey && !rules.supportsKey(condition.attribute.tag, query.level, condition.attribute.itemTag !== undefined);
    const wildcardUnsupported = rules.wildcards === false && condition.anyOf.some((m) => m.kind === 'wildcard');
    if (keyUnsupported || wildcardUnsupported) {
      if (!checkable) {
        const how = keyUnsupported ? 'does not match on it' : 'does not match wildcards';
        throw new UnsupportedSearch(
          `${describeTag(condition.attribute.tag)} cannot be searched ${condition.attribute.itemTag !== undefined ? 'by its sequence items ' : `on a ${query.level} search `}` +
            `in ${rules.describe ?? 'this store'}: the upstream ${how} and its results do not carry it; search at the ${condition.level} level instead`,
        );
      }
      atGateway.push(condition);
      includes.add(hex8(condition.attribute.tag));
      continue;
    }
    if (percentEncode) {
      if (isList) multipleValues = true;
      if (isEmpty) emptyValues = true;
      params.push(`${encode(name)}=${values.map(encode).join(condition.vr === 'UI' ? ',' : encode('\\'))}`);
      continue;
    }
    const joined = values.join(',');
    // Such upstreams also take '?' for one byte, not one character (PS3.4 C.2.2.2.4): widened too.
    const byteWildcard = condition.anyOf.some((m) => m.kind === 'wildcard' && m.pattern.includes('?'));
    if (!isList && !isEmpty && RAW_SAFE.test(joined) && !byteWildcard) {
      params.push(`${name}=${joined}`);
      continue;
    }
    const fuzzyName = query.fuzzy && condition.vr === 'PN';
    if (checkable && !fuzzyName) {
      // Asked more broadly (or not at all), matched exactly here.
      atGateway.push(condition);
      includes.add(hex8(condition.attribute.tag));
      const widened = !isList && !isEmpty && WILDCARD_VRS.has(condition.vr) ? widen(joined) : undefined;
      if (widened !== undefined) params.push(`${name}=${widened}`);
      continue;
    }
    const widened = !isList && !isEmpty && WILDCARD_VRS.has(condition.vr) ? widen(joined) : undefined;
    if (widened !== undefined) params.push(`${name}=${widened}`);
    notes.push(`${name}: the upstream cannot receive this value as given; it was ${widened ? `matched there as ${widened}` : 'left out'}`);
  }
  if (query.fuzzy) {
    params.push('fuzzymatching=true');
    notes.push('fuzzymatching: person names are matched by the upstream, by its own fuzzy rules');
  }
  if (multipleValues) params.push('multiplevaluematching=true');
  if (emptyValues) params.push('emptyvaluematching=true');
  // includefield=all with the fields named too, for upstreams that ignore "all"; past an
  // upstream's most includefield values, "all" alone (a superset).
  const tooMany = rules.maxIncludeFields !== undefined && includes.size + (query.includeAll ? 1 : 0) > rules.maxIncludeFields;
  if (query.includeAll || tooMany) params.push('includefield=all');
  if (!tooMany) for (const tag of includes) params.push(`includefield=${tag}`);
  return { params, atGateway, notes };
}

function keyName(condition: MatchCondition): string {
  const top = hex8(condition.attribute.tag);
  return condition.attribute.itemTag === undefined ? top : `${top}.${hex8(condition.attribute.itemTag)}`;
}

/** One alternative of a condition as DICOM query text. */
export function valueText(match: ValueMatch, vr: string): string {
  switch (match.kind) {
    case 'single':
      return match.value;
    case 'wildcard':
      return match.pattern;
    case 'empty':
      return '""';
    case 'range': {
      const low = match.low === undefined ? '' : bound(match.low, '000000');
      const high = match.high === undefined ? '' : bound(match.high, '999999');
      // A single date is asked as itself: every server reads that, not every one a range.
      if (vr === 'DA' && low === high) return low;
      return `${low}-${high}`;
    }
  }
}

/** A canonical 'HHMMSS.FFFFFF' or 'YYYYMMDDHHMMSS.FFFFFF' bound without its redundant fraction. */
function bound(canonical: string, redundantFraction: string): string {
  return canonical.endsWith(`.${redundantFraction}`) ? canonical.slice(0, -redundantFraction.length - 1) : canonical;
}

/** Each run of characters that cannot be sent raw, and each '?', becomes '*'; undefined when
 *  nothing specific is left. */
function widen(value: string): string | undefined {
  const widened = value.replace(RAW_UNSAFE_RUN, '*').replace(/\?/g, '*').replace(/\*{2,}/g, '*');
  return /^\*?$/.test(widened) ? undefined : widened;
}
