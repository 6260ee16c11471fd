/**
 * Migration 2 for an index written before QIDO existed: derives the match keys and instance
 * result attributes of every stored instance from its metadata_json, exactly as insertInstance
 * now does at ingest (study and series keys from the first instance of each, as their rows were).
 */
import type { Database } from 'better-sqlite3';
import { DicomJsonObject } from '../../dicom/dicom-json';
import { buildIndexRecords } from './index-record';
import { MatchKeyLevel } from './match-key-records';

/** Rows are read in pages: better-sqlite3 cannot write while a read is open, and a whole archive's
 *  metadata does not fit in memory. */
const PAGE = 500;

interface Row {
  instance_pk: number;
  study_pk: number;
  series_pk: number;
  metadata_json: string;
}

export function backfillSearchKeys(db: Database): void {
  const insertKey = db.prepare('INSERT OR IGNORE INTO match_keys (level, attribute, key, owner_pk) VALUES (?, ?, ?, ?)');
  const setInstanceJson = db.prepare('UPDATE instances SET instance_json = ? WHERE instance_pk = ?');
  const page = db.prepare(
    'SELECT instance_pk, study_pk, series_pk, metadata_json FROM instances WHERE instance_pk > ? ORDER BY instance_pk LIMIT ?',
  );
  const seenStudies = new Set<number>();
  const seenSeries = new Set<number>();
  let after = 0;
  for (;;) {
    const rows = page.all(after, PAGE) as Row[];
    if (rows.length === 0) break;
    for (const row of rows) {
      const records = buildIndexRecords(JSON.parse(row.metadata_json) as DicomJsonObject);
      // Instances come in instance_pk order, so the first one seen of a study or series is the
      // one its row was made from.
      if (!seenStudies.has(row.study_pk)) {
        seenStudies.add(row.study_pk);
        for (const k of records.matchKeys.study) insertKey.run(MatchKeyLevel.study, k.attribute, k.key, row.study_pk);
      }
      if (!seenSeries.has(row.series_pk)) {
        seenSeries.add(row.series_pk);
        for (const k of records.matchKeys.series) insertKey.run(MatchKeyLevel.series, k.attribute, k.key, row.series_pk);
      }
      for (const k of records.matchKeys.instance) insertKey.run(MatchKeyLevel.instance, k.attribute, k.key, row.instance_pk);
      setInstanceJson.run(records.instance.instance_json, row.instance_pk);
    }
    after = rows[rows.length - 1].instance_pk;
  }
}
