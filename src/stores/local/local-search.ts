/**
 * QIDO-RS search on the embedded store: one SQL statement per query (qido-sql.ts) finds the rows
 * and their counters; the study and series attributes come from a cache of parsed JSON, filled
 * by one more statement for the rows not in it. The result adds the attributes the index
 * computes (Modalities in Study, the Number of ... Related counts, Instance Availability).
 *
 * Study and series objects handed out are frozen and shared between searches.
 */
import type { Database, Statement } from 'better-sqlite3';
import { DicomJsonAttribute, DicomJsonObject } from '../../dicom/dicom-json';
import { INSTANCE_SUMMARY_TAGS, QidoTags, qidoLevelOfTag } from '../../dicom/qido-attributes';
import { hex8 } from '../../dicom/value-decoding';
import { keywordOf } from '../../dicom/dictionary';
import { INSTANCE_INDEXED_VRS } from './match-key-records';
import { QidoMatch, QidoQuery, QidoResult } from '../qido-query';
import { CachedLevel, ParsedJsonCache, deepFreeze } from './parsed-json-cache';
import { AVAILABILITY, searchSql } from './qido-sql';

/** Result rows as arrays (better-sqlite3 raw mode: no object per row), in qido-sql.ts's column order. */
type ResultRow = [
  studyPk: number,
  studyState: string,
  seriesPk?: number,
  seriesState?: string,
  sopInstanceUid?: string,
  sopClassUid?: string,
  instanceJson?: string | null,
];

/** Prepared statements by SQL text; a query's text depends only on its shape, not its values. */
const STATEMENT_CACHE_SIZE = 256;
/** Parsed study and series JSON kept (a few KB each). */
const JSON_CACHE_SIZE = 20_000;

const KEY = {
  studyUid: hex8(QidoTags.StudyInstanceUID),
  seriesUid: hex8(QidoTags.SeriesInstanceUID),
  sopClassUid: hex8(QidoTags.SOPClassUID),
  sopInstanceUid: hex8(QidoTags.SOPInstanceUID),
  availability: hex8(QidoTags.InstanceAvailability),
  modalities: hex8(QidoTags.ModalitiesInStudy),
  studySeries: hex8(QidoTags.NumberOfStudyRelatedSeries),
  studyInstances: hex8(QidoTags.NumberOfStudyRelatedInstances),
  seriesInstances: hex8(QidoTags.NumberOfSeriesRelatedInstances),
};
const AVAILABLE: DicomJsonAttribute = deepFreeze({ vr: 'CS', Value: [AVAILABILITY] });

interface LevelTable {
  /** Column of the row's pk and state in a ResultRow. */
  at: 0 | 2;
  cache: ParsedJsonCache;
  fetch: string;
  uidKey: string;
  /** The answer's computed attributes from the row state ('created|counters...'). */
  answer(stored: DicomJsonObject, state: string[]): DicomJsonObject;
}

export class LocalSearch {
  private readonly statements = new Map<string, Statement>();
  private readonly studies: LevelTable = {
    at: 0,
    cache: new ParsedJsonCache(JSON_CACHE_SIZE),
    fetch: `SELECT study_pk, study_uid, study_json FROM studies WHERE study_pk IN (SELECT value FROM json_each(?))`,
    uidKey: KEY.studyUid,
    answer: studyAnswer,
  };
  private readonly series: LevelTable = {
    at: 2,
    cache: new ParsedJsonCache(JSON_CACHE_SIZE),
    fetch: `SELECT series_pk, series_uid, series_json FROM series WHERE series_pk IN (SELECT value FROM json_each(?))`,
    uidKey: KEY.seriesUid,
    answer: seriesAnswer,
  };

  constructor(private readonly db: Database) {}

  async search(query: QidoQuery): Promise<QidoResult> {
    const { applied, ignored } = indexedConditions(query);
    const built = searchSql(applied, needsFullInstances(query));
    if (!built) return { matches: [], more: false, ignored };
    const rows = this.statement(built.sql).raw(true).all(...built.params) as ResultRow[];
    const more = rows.length > query.limit;
    if (more) rows.length = query.limit;
    const studies = this.levelObjects(rows, this.studies);
    const series = query.level === 'study' ? undefined : this.levelObjects(rows, this.series);
    const matches = rows.map((row, k): QidoMatch => {
      const match: QidoMatch = { study: studies[k] };
      if (series) match.series = series[k];
      if (query.level === 'instance') match.instance = instanceObject(row);
      return match;
    });
    return { matches, more, ignored };
  }

  /**
   * The study (or series) object of each row: from the cache, the JSON parsed once for the rows
   * it lacks (one statement for all of them), with the row's counters. An answer built before for
   * the same row state is handed out again as it is, so an unchanged study costs nothing after
   * its first search.
   */
  private levelObjects(rows: ResultRow[], table: LevelTable): DicomJsonObject[] {
    const { at, cache } = table;
    const out: DicomJsonObject[] = new Array(rows.length);
    let missing: number[] | undefined;
    for (let k = 0; k < rows.length; k++) {
      const state = rows[k][at + 1] as string;
      const entry = cache.get(rows[k][at] as number);
      if (entry && entry.state === state) out[k] = entry.answer!;
      else if (entry && entry.createdAt === createdAtOf(state)) out[k] = answerFor(table, entry, state);
      else (missing ??= []).push(k);
    }
    if (missing) {
      const pks = [...new Set(missing.map((k) => rows[k][at] as number))];
      const found = this.statement(table.fetch).raw(true).all(JSON.stringify(pks)) as [number, string, string][];
      const stored = new Map(found.map(([pk, uid, json]) => [pk, { uid, json }]));
      for (const k of missing) {
        const pk = rows[k][at] as number;
        const state = rows[k][at + 1] as string;
        const createdAt = createdAtOf(state);
        let entry = cache.get(pk);
        if (!entry || entry.createdAt !== createdAt) {
          const r = stored.get(pk);
          if (!r) {
            out[k] = {}; // written between the two statements' reads: cannot happen within one call
            continue;
          }
          // The UID from its column: the row is keyed on it, whatever the JSON holds.
          entry = cache.set(pk, createdAt, { ...(JSON.parse(r.json) as DicomJsonObject), [table.uidKey]: { vr: 'UI', Value: [r.uid] } });
        }
        out[k] = answerFor(table, entry, state);
      }
    }
    return out;
  }

  private statement(sql: string): Statement {
    let stmt = this.statements.get(sql);
    if (stmt) {
      this.statements.delete(sql); // re-inserted below: most recently used last
    } else {
      stmt = this.db.prepare(sql);
      if (this.statements.size >= STATEMENT_CACHE_SIZE) this.statements.delete(this.statements.keys().next().value!);
    }
    this.statements.set(sql, stmt);
    return stmt;
  }
}

/** The answer for a row state, built again only when the counters changed. */
function answerFor(table: LevelTable, entry: CachedLevel, state: string): DicomJsonObject {
  if (entry.state !== state) {
    entry.answer = deepFreeze(table.answer(entry.stored, state.split('|')));
    entry.state = state;
  }
  return entry.answer!;
}

function createdAtOf(state: string): number {
  return Number(state.slice(0, state.indexOf('|')));
}

/** State: created_at | Number of Study Related Series | ... Instances | modalities ('\\'-separated). */
function studyAnswer(stored: DicomJsonObject, [, series, instances, modalities]: string[]): DicomJsonObject {
  const study: DicomJsonObject = {
    ...stored,
    [KEY.availability]: AVAILABLE,
    [KEY.studySeries]: { vr: 'IS', Value: [Number(series)] },
    [KEY.studyInstances]: { vr: 'IS', Value: [Number(instances)] },
  };
  if (modalities) study[KEY.modalities] = { vr: 'CS', Value: modalities.split('\\') };
  return study;
}

/** State: created_at | Number of Series Related Instances. */
function seriesAnswer(stored: DicomJsonObject, [, instances]: string[]): DicomJsonObject {
  return { ...stored, [KEY.availability]: AVAILABLE, [KEY.seriesInstances]: { vr: 'IS', Value: [Number(instances)] } };
}

function instanceObject(row: ResultRow): DicomJsonObject {
  return {
    ...(row[6] ? (JSON.parse(row[6]) as DicomJsonObject) : {}),
    [KEY.sopClassUid]: { vr: 'UI', Value: [row[5]] },
    [KEY.sopInstanceUid]: { vr: 'UI', Value: [row[4]] },
    [KEY.availability]: AVAILABLE,
  };
}

/**
 * Instance attributes of VRs the index leaves out (match-key-records.ts: measurements, narrative
 * text) cannot be matched here: the query runs without them, and says so.
 */
function indexedConditions(query: QidoQuery): { applied: QidoQuery; ignored: string[] } {
  const ignored: string[] = [];
  const conditions = query.conditions.filter((c) => {
    const indexed = c.level !== 'instance' || c.attribute.itemTag !== undefined || INSTANCE_INDEXED_VRS.has(c.vr);
    if (!indexed) {
      const name = keywordOf(c.attribute.tag) ?? hex8(c.attribute.tag);
      ignored.push(`${name}: this store does not match instance attributes of VR ${c.vr}; the key was ignored`);
    }
    return indexed;
  });
  return { applied: ignored.length ? { ...query, conditions } : query, ignored };
}

/** Instance results come from the instance's result attributes unless the query wants others. */
function needsFullInstances(query: QidoQuery): boolean {
  if (query.level !== 'instance') return false;
  if (query.includeAll) return true;
  return query.returnTags.some((t) => qidoLevelOfTag(t) === 'instance' && !INSTANCE_SUMMARY_TAGS.has(t) && t !== QidoTags.InstanceAvailability);
}
