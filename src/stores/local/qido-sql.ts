/**
 * QidoQuery -> one SQL statement over the embedded index. Every condition becomes "the row's key
 * IN (owners)", where owners is a range scan of an index (match_keys' primary key, a UID column,
 * study_modalities), lifted to the searched level through the parent keys. So no condition reads
 * JSON, and a condition on a lower level than the one searched is a relational match (a study
 * matches when one of its series or instances does, as C-FIND relational-queries, PS3.4
 * C.4.1.2.2; PS3.18 10.6.1.2.1 does not ask for it, so it is an extension).
 *
 * Attribute names and levels are written into the SQL text (they come from fixed tables, and the
 * planner picks better plans for constants); every value is a bound parameter.
 */
import { hex8 } from '../../dicom/value-decoding';
import { LEVEL_DEPTH, QidoTags } from '../../dicom/qido-attributes';
import { upperCaseSameLength } from '../../dicom/match-keys';
import { foldText } from '../../dicom/text-fold';
import { MatchCondition, QidoLevel, QidoQuery, ValueMatch } from '../qido-query';
import { MatchKeyLevel } from './match-key-records';

export interface SearchSql {
  sql: string;
  params: unknown[];
}

const TABLE = { study: 'studies', series: 'series', instance: 'instances' } as const;
const PK = { study: 'study_pk', series: 'series_pk', instance: 'instance_pk' } as const;
const ALIAS = { study: 's', series: 'se', instance: 'i' } as const;

/** Attributes with a column of their own (unique UIDs, counters) instead of match_keys rows. */
const COLUMN_KEYS = new Map<number, { level: QidoLevel; column: string; numeric: boolean }>([
  [QidoTags.StudyInstanceUID, { level: 'study', column: 'study_uid', numeric: false }],
  [QidoTags.SeriesInstanceUID, { level: 'series', column: 'series_uid', numeric: false }],
  [QidoTags.SOPInstanceUID, { level: 'instance', column: 'sop_instance_uid', numeric: false }],
  [QidoTags.SOPClassUID, { level: 'instance', column: 'sop_class_uid', numeric: false }],
  [QidoTags.NumberOfStudyRelatedSeries, { level: 'study', column: 'num_series', numeric: true }],
  [QidoTags.NumberOfStudyRelatedInstances, { level: 'study', column: 'num_instances', numeric: true }],
  [QidoTags.NumberOfSeriesRelatedInstances, { level: 'series', column: 'num_instances', numeric: true }],
]);

/** What the embedded store answers for Instance Availability (0008,0056): every instance is on its disk. */
export const AVAILABILITY = 'ONLINE';

/** The owners (pks at the condition's level) a condition lets through. */
type Owners = { kind: 'all' } | { kind: 'none' } | { kind: 'sql'; sql: string };

class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return '?';
  }
}

// Result rows carry a key and a state per level: the level JSON comes from a cache
// (local-search.ts), which the state (created_at and counters, one string) tells is current.
// Two values instead of five: converting each SQLite value to JS is the larger cost of a row.
const STUDY_COLUMNS = "s.study_pk, s.created_at || '|' || s.num_series || '|' || s.num_instances || '|' || ifnull(s.modalities, '')";
const SERIES_COLUMNS = "se.series_pk, se.created_at || '|' || se.num_instances";

function select(level: QidoLevel, fullInstances: boolean): string {
  switch (level) {
    case 'study':
      return `SELECT ${STUDY_COLUMNS} FROM studies s`;
    case 'series':
      return `SELECT ${STUDY_COLUMNS}, ${SERIES_COLUMNS} FROM series se JOIN studies s ON s.study_pk = se.study_pk`;
    case 'instance':
      return `SELECT ${STUDY_COLUMNS}, ${SERIES_COLUMNS}, i.sop_instance_uid, i.sop_class_uid, i.${fullInstances ? 'metadata_json' : 'instance_json'}
        FROM instances i JOIN series se ON se.series_pk = i.series_pk JOIN studies s ON s.study_pk = i.study_pk`;
  }
}

/** A stable total order (PS3.18 8.3.4.4 paging): arrival order of studies, then series and
 *  instance numbers. New studies sort last, so earlier pages do not shift while an archive grows. */
const ORDER: Record<QidoLevel, string> = {
  study: 'ORDER BY s.study_pk',
  series: 'ORDER BY se.study_pk, se.series_number, se.series_pk',
  instance: 'ORDER BY i.series_pk, i.instance_number, i.instance_pk',
};

/**
 * The statement for a query, asking for limit + 1 rows (the extra one tells whether more exist).
 * Undefined when a condition can match nothing, so there is nothing to ask.
 * `fullInstances`: select the whole instance metadata rather than its result attributes.
 */
export function searchSql(query: QidoQuery, fullInstances: boolean): SearchSql | undefined {
  const p = new Params();
  const where: string[] = [];
  if (query.studyUid !== undefined) where.push(`s.study_uid = ${p.add(query.studyUid)}`);
  if (query.seriesUid !== undefined) where.push(`se.series_uid = ${p.add(query.seriesUid)}`);
  for (const condition of query.conditions) {
    const owners = ownersOf(condition, query, p);
    if (owners.kind === 'none') return undefined;
    if (owners.kind === 'sql') where.push(lift(condition.level, query.level, owners.sql));
  }
  // The limit as a literal lets the planner size its sort; clients use few distinct limits, so
  // this adds few statements to the cache (offsets, which page, stay bound).
  const limit = Math.trunc(query.limit) + 1;
  const sql = `${select(query.level, fullInstances)}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ${ORDER[query.level]} LIMIT ${limit} OFFSET ${p.add(query.offset)}`;
  return { sql, params: p.values };
}

/** Turns owners at `from` into a predicate on the searched row at `to`. */
function lift(from: QidoLevel, to: QidoLevel, owners: string): string {
  const depth = LEVEL_DEPTH[from] - LEVEL_DEPTH[to];
  if (depth <= 0) return `${ALIAS[to]}.${PK[from]} IN (${owners})`; // the row itself or its parent study/series
  return `${ALIAS[to]}.${PK[to]} IN (SELECT ${PK[to]} FROM ${TABLE[from]} WHERE ${PK[from]} IN (${owners}))`;
}

function ownersOf(condition: MatchCondition, query: QidoQuery, p: Params): Owners {
  const { tag, itemTag } = condition.attribute;
  if (itemTag === undefined) {
    if (tag === QidoTags.InstanceAvailability) return availabilityOwners(condition.anyOf);
    if (tag === QidoTags.ModalitiesInStudy) return modalityOwners(condition.anyOf, p);
    const column = COLUMN_KEYS.get(tag);
    if (column) return columnOwners(column, condition.anyOf, p);
  }
  return matchKeyOwners(condition, query.fuzzy, p);
}

function availabilityOwners(anyOf: ValueMatch[]): Owners {
  const matches = anyOf.some(
    (alt) =>
      (alt.kind === 'single' && alt.value === AVAILABILITY) ||
      (alt.kind === 'wildcard' && globToRegExp(alt.pattern).test(AVAILABILITY)),
  );
  return { kind: matches ? 'all' : 'none' };
}

function modalityOwners(anyOf: ValueMatch[], p: Params): Owners {
  const ors: string[] = [];
  const parts: string[] = [];
  for (const alt of anyOf) {
    if (alt.kind === 'single') ors.push(`modality = ${p.add(alt.value)}`);
    else if (alt.kind === 'wildcard') ors.push(globPredicate('modality', alt.pattern, p));
    else if (alt.kind === 'empty') parts.push('SELECT study_pk FROM studies WHERE study_pk NOT IN (SELECT study_pk FROM study_modalities)');
  }
  if (ors.length) parts.unshift(`SELECT study_pk FROM study_modalities WHERE ${ors.join(' OR ')}`);
  return parts.length ? { kind: 'sql', sql: parts.join(' UNION ') } : { kind: 'none' };
}

function columnOwners(column: { level: QidoLevel; column: string; numeric: boolean }, anyOf: ValueMatch[], p: Params): Owners {
  // UIDs and counts always have a value, so only single values can match (the parser allows no
  // wild cards or ranges on UI and IS).
  const values = anyOf.flatMap((alt) => (alt.kind === 'single' ? [column.numeric ? Number(alt.value) : alt.value] : []));
  if (values.length === 0) return { kind: 'none' };
  const list = values.map((v) => p.add(v)).join(', ');
  return { kind: 'sql', sql: `SELECT ${PK[column.level]} FROM ${TABLE[column.level]} WHERE ${column.column} IN (${list})` };
}

function matchKeyOwners(condition: MatchCondition, fuzzy: boolean, p: Params): Owners {
  const { tag, itemTag } = condition.attribute;
  const attribute = itemTag === undefined ? hex8(tag) : `${hex8(tag)}.${hex8(itemTag)}`;
  const level = MatchKeyLevel[condition.level];
  const isName = condition.vr === 'PN';
  const ors: string[] = [];
  const parts: string[] = [];
  for (const alt of condition.anyOf) {
    if (alt.kind === 'empty') {
      const [table, pk] = [TABLE[condition.level], PK[condition.level]];
      parts.push(`SELECT ${pk} FROM ${table} WHERE ${pk} NOT IN (SELECT owner_pk FROM match_keys WHERE level = ${level} AND attribute = '${attribute}')`);
    } else if (alt.kind === 'range') {
      const bounds = [alt.low === undefined ? '' : ` AND key >= ${p.add(alt.low)}`, alt.high === undefined ? '' : ` AND key <= ${p.add(alt.high)}`];
      ors.push(`(attribute = '${attribute}'${bounds.join('')})`);
    } else if (isName && fuzzy && itemTag === undefined) {
      const words = fuzzyWordPredicates(alt.kind === 'single' ? alt.value : alt.pattern, p);
      if (words.length === 0) return { kind: 'all' };
      const selects = words.map((w) => `SELECT owner_pk FROM match_keys WHERE level = ${level} AND attribute = '${attribute}~' AND ${w}`);
      parts.push(`SELECT owner_pk FROM (${selects.join(' INTERSECT ')})`);
    } else {
      const text = alt.kind === 'single' ? alt.value : alt.pattern;
      const [name, value] = isName ? personNameKey(attribute, text, alt.kind === 'single') : [attribute, text];
      ors.push(alt.kind === 'single' ? `(attribute = '${name}' AND key = ${p.add(value)})` : `(attribute = '${name}' AND ${globPredicate('key', value, p)})`);
    }
  }
  if (ors.length) parts.unshift(`SELECT owner_pk FROM match_keys WHERE level = ${level} AND (${ors.join(' OR ')})`);
  return { kind: 'sql', sql: parts.join(' UNION ') };
}

/**
 * Person names match case-insensitively (PS3.4 C.2.2.2.1 allows it; Patient Name is what users
 * type). A key without '=' is compared with each component group on its own, so 'Yamada^Tarou'
 * and '山田^太郎' both find 'Yamada^Tarou=山田^太郎'; a key with '=' with the whole value.
 * Exact keys lose trailing empty components as stored values did ('Smith^John^^' = 'Smith^John').
 */
function personNameKey(attribute: string, text: string, exact: boolean): [string, string] {
  let key = text.replace(/=+$/, '');
  if (exact) key = key.split('=').map((g) => g.replace(/[\^ ]+$/, '')).join('=');
  return [key.includes('=') ? `${attribute}=` : attribute, upperCaseSameLength(key)];
}

/**
 * Fuzzy matching (fuzzymatching=true): every word of the key, folded like the stored words (case
 * and accents ignored), must begin a word of the name, in any order and any group. 'mull' finds
 * 'Müller^Hans', 'hans muller' too. '*' and '?' keep their meaning inside a word.
 */
function fuzzyWordPredicates(text: string, p: Params): string[] {
  const words = foldText(text)
    .split(/[^\p{L}\p{N}*?]+/u)
    .filter((w) => w.replace(/\*/g, '') !== '');
  return words.map((w) => globPredicate('key', w.endsWith('*') ? w : `${w}*`, p));
}

/**
 * A wild card pattern as an index range on its literal prefix, plus SQLite GLOB for the rest
 * ('*' and '?' mean the same in GLOB; '[' is escaped). 'SMITH*' is the range ['SMITH', 'SMITI').
 */
function globPredicate(column: string, pattern: string, p: Params): string {
  const wild = pattern.search(/[*?]/);
  const prefix = wild < 0 ? pattern : pattern.slice(0, wild);
  const conditions: string[] = [];
  if (prefix !== '') {
    conditions.push(`${column} >= ${p.add(prefix)}`);
    const upper = successor(prefix);
    if (upper !== undefined) conditions.push(`${column} < ${p.add(upper)}`);
  }
  const prefixOnly = wild >= 0 && /^\*+$/.test(pattern.slice(wild));
  if (!prefixOnly) conditions.push(`${column} GLOB ${p.add(pattern.replace(/\[/g, '[[]'))}`);
  return conditions.join(' AND ');
}

/** The smallest string greater than every string starting with `prefix` (in UTF-8 byte order,
 *  which is code point order and SQLite's BINARY collation). */
function successor(prefix: string): string | undefined {
  const chars = Array.from(prefix);
  const last = chars.pop()!.codePointAt(0)!;
  if (last >= 0x10ffff) return undefined;
  const next = last + 1 === 0xd800 ? 0xe000 : last + 1;
  return chars.join('') + String.fromCodePoint(next);
}

function globToRegExp(pattern: string): RegExp {
  const body = Array.from(pattern, (c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`, 'su');
}
