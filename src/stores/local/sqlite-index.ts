/**
 * The embedded store's index: one SQLite file (better-sqlite3, WAL). All writes for one instance
 * happen in one transaction, so a crash leaves either the whole instance indexed or nothing.
 */
import type { Database as Db, Statement } from 'better-sqlite3';
import { openDurableSqlite } from '../../common/durable-sqlite';
import { InstanceIdentity } from '../dicom-store';
import { buildIndexRecords } from './index-record';
import { MatchKeyLevel, MatchKeyRow } from './match-key-records';
import { migrate } from './schema';
import { DicomJsonObject } from '../../dicom/dicom-json';
import { stringifyDicomJson } from '../../dicom/dicom-json-stringify';

export interface IndexedInstance {
  instance_pk: number;
  sop_instance_uid: string;
  sop_class_uid: string;
  series_uid: string;
  study_uid: string;
  transfer_syntax_uid: string;
  file_path: string;
  file_size: number;
  sha256: string;
}

export interface NewInstanceRow {
  identity: InstanceIdentity;
  metadata: DicomJsonObject;
  filePath: string;
  fileSize: number;
  sha256: string;
  datasetOffset: number;
  pixelData: unknown;
}

/** The series already belongs to another study: the data contradicts what is indexed. */
export class SeriesInOtherStudy extends Error {}

export class SqliteIndex {
  readonly db: Db;
  private readonly stmts: Record<string, Statement>;

  constructor(path: string) {
    // The instance file is fsynced before its row commits, so the index never points at bytes
    // that may vanish.
    this.db = openDurableSqlite(path);
    migrate(this.db);
    this.stmts = {
      findInstance: this.db.prepare(`
        SELECT i.instance_pk, i.sop_instance_uid, i.sop_class_uid, se.series_uid, st.study_uid,
               i.transfer_syntax_uid, i.file_path, i.file_size, i.sha256
        FROM instances i JOIN series se ON se.series_pk = i.series_pk JOIN studies st ON st.study_pk = i.study_pk
        WHERE i.sop_instance_uid = ?`),
      findStudy: this.db.prepare('SELECT study_pk FROM studies WHERE study_uid = ?'),
      findSeries: this.db.prepare('SELECT series_pk, study_pk FROM series WHERE series_uid = ?'),
      insertStudy: this.db.prepare(`
        INSERT INTO studies (study_uid, patient_id, patient_name, patient_name_ideographic, patient_name_phonetic,
          patient_name_fold, patient_birth_date, patient_sex, study_date, study_time, accession_number, study_id,
          referring_physician_name, referring_physician_fold, study_description, study_json, created_at, updated_at)
        VALUES (@study_uid, @patient_id, @patient_name, @patient_name_ideographic, @patient_name_phonetic,
          @patient_name_fold, @patient_birth_date, @patient_sex, @study_date, @study_time, @accession_number, @study_id,
          @referring_physician_name, @referring_physician_fold, @study_description, @study_json, @now, @now)`),
      insertSeries: this.db.prepare(`
        INSERT INTO series (series_uid, study_pk, modality, series_number, series_description, body_part_examined,
          pps_start_date, pps_start_time, series_json, created_at, updated_at)
        VALUES (@series_uid, @study_pk, @modality, @series_number, @series_description, @body_part_examined,
          @pps_start_date, @pps_start_time, @series_json, @now, @now)`),
      insertModality: this.db.prepare('INSERT OR IGNORE INTO study_modalities (study_pk, modality) VALUES (?, ?)'),
      updateModalities: this.db.prepare(`
        UPDATE studies SET modalities = (SELECT group_concat(modality, '\\') FROM
          (SELECT modality FROM study_modalities WHERE study_pk = ? ORDER BY modality)) WHERE study_pk = ?`),
      insertInstance: this.db.prepare(`
        INSERT INTO instances (sop_instance_uid, series_pk, study_pk, sop_class_uid, instance_number, rows, columns,
          number_of_frames, transfer_syntax_uid, file_path, file_size, sha256, dataset_offset, pixel_data,
          metadata_json, instance_json, created_at)
        VALUES (@sop_instance_uid, @series_pk, @study_pk, @sop_class_uid, @instance_number, @rows, @columns,
          @number_of_frames, @transfer_syntax_uid, @file_path, @file_size, @sha256, @dataset_offset, @pixel_data,
          @metadata_json, @instance_json, @now)`),
      // OR IGNORE: a value repeated in a multi-valued attribute is one key.
      insertMatchKey: this.db.prepare('INSERT OR IGNORE INTO match_keys (level, attribute, key, owner_pk) VALUES (?, ?, ?, ?)'),
      bumpSeries: this.db.prepare('UPDATE series SET num_instances = num_instances + 1, updated_at = ? WHERE series_pk = ?'),
      bumpStudy: this.db.prepare(
        'UPDATE studies SET num_instances = num_instances + 1, num_series = num_series + ?, updated_at = ? WHERE study_pk = ?',
      ),
    };
  }

  findInstance(sopInstanceUid: string): IndexedInstance | undefined {
    return this.stmts.findInstance.get(sopInstanceUid) as IndexedInstance | undefined;
  }

  /**
   * Indexes one instance: study and series rows are created on first sight (their attributes
   * come from the first instance; later instances do not rewrite them), counters updated.
   */
  insertInstance(row: NewInstanceRow): void {
    const records = buildIndexRecords(row.metadata);
    const now = Date.now();
    const { identity } = row;
    this.db.transaction(() => {
      let study = this.stmts.findStudy.get(identity.studyInstanceUid) as { study_pk: number } | undefined;
      if (!study) {
        const info = this.stmts.insertStudy.run({ ...records.study, study_uid: identity.studyInstanceUid, now });
        study = { study_pk: Number(info.lastInsertRowid) };
        this.insertMatchKeys(MatchKeyLevel.study, records.matchKeys.study, study.study_pk);
      }
      let series = this.stmts.findSeries.get(identity.seriesInstanceUid) as
        | { series_pk: number; study_pk: number }
        | undefined;
      let newSeries = 0;
      if (!series) {
        const info = this.stmts.insertSeries.run({
          ...records.series,
          series_uid: identity.seriesInstanceUid,
          study_pk: study.study_pk,
          now,
        });
        series = { series_pk: Number(info.lastInsertRowid), study_pk: study.study_pk };
        newSeries = 1;
        this.insertMatchKeys(MatchKeyLevel.series, records.matchKeys.series, series.series_pk);
      } else if (series.study_pk !== study.study_pk) {
        throw new SeriesInOtherStudy(
          `Series ${identity.seriesInstanceUid} already belongs to another study than ${identity.studyInstanceUid}`,
        );
      }
      if (records.series.modality && this.stmts.insertModality.run(study.study_pk, records.series.modality).changes > 0) {
        this.stmts.updateModalities.run(study.study_pk, study.study_pk);
      }
      const instance = this.stmts.insertInstance.run({
        ...records.instance,
        sop_instance_uid: identity.sopInstanceUid,
        series_pk: series.series_pk,
        study_pk: study.study_pk,
        sop_class_uid: identity.sopClassUid,
        transfer_syntax_uid: identity.transferSyntaxUid,
        file_path: row.filePath,
        file_size: row.fileSize,
        sha256: row.sha256,
        dataset_offset: row.datasetOffset,
        pixel_data: row.pixelData === undefined ? null : JSON.stringify(row.pixelData),
        metadata_json: stringifyDicomJson(row.metadata),
        now,
      });
      this.insertMatchKeys(MatchKeyLevel.instance, records.matchKeys.instance, Number(instance.lastInsertRowid));
      this.stmts.bumpSeries.run(now, series.series_pk);
      this.stmts.bumpStudy.run(newSeries, now, study.study_pk);
    })();
  }

  private insertMatchKeys(level: number, rows: MatchKeyRow[], ownerPk: number): void {
    for (const row of rows) this.stmts.insertMatchKey.run(level, row.attribute, row.key, ownerPk);
  }

  close(): void {
    this.db.close();
  }
}
