/**
 * Versioned schema of the embedded store's SQLite index. Each migration runs once, in order, in
 * its own transaction; the applied versions are recorded in schema_migrations. Never edit a
 * migration that has shipped: add the next one.
 */
import type { Database } from 'better-sqlite3';
import { backfillSearchKeys } from './search-keys-backfill';

/** `backfill` runs after `sql`, in the same transaction, for what SQL alone cannot compute. */
const MIGRATIONS: { version: number; description: string; sql: string; backfill?: (db: Database) => void }[] = [
  {
    version: 1,
    description: 'studies, series, instances and modalities in study',
    sql: `
      CREATE TABLE studies (
        study_pk                 INTEGER PRIMARY KEY,
        study_uid                TEXT NOT NULL UNIQUE,
        patient_id               TEXT,
        patient_name             TEXT,   -- Alphabetic group, UTF-8
        patient_name_ideographic TEXT,
        patient_name_phonetic    TEXT,
        patient_name_fold        TEXT,   -- all groups, case and accents folded (fuzzy matching)
        patient_birth_date       TEXT,
        patient_sex              TEXT,
        study_date               TEXT,   -- YYYYMMDD
        study_time               TEXT,   -- HHMMSS.FFFFFF as sent
        accession_number         TEXT,
        study_id                 TEXT,
        referring_physician_name TEXT,
        referring_physician_fold TEXT,
        study_description        TEXT,
        num_series               INTEGER NOT NULL DEFAULT 0,
        num_instances            INTEGER NOT NULL DEFAULT 0,
        study_json               TEXT NOT NULL,  -- patient and study level attributes (DICOM JSON)
        created_at               INTEGER NOT NULL,
        updated_at               INTEGER NOT NULL
      );
      CREATE INDEX studies_patient_id ON studies(patient_id);
      CREATE INDEX studies_patient_name ON studies(patient_name COLLATE NOCASE);
      CREATE INDEX studies_patient_name_fold ON studies(patient_name_fold);
      CREATE INDEX studies_study_date ON studies(study_date, study_time);
      CREATE INDEX studies_accession ON studies(accession_number);

      CREATE TABLE study_modalities (
        study_pk INTEGER NOT NULL REFERENCES studies(study_pk) ON DELETE CASCADE,
        modality TEXT NOT NULL,
        PRIMARY KEY (modality, study_pk)
      ) WITHOUT ROWID;

      CREATE TABLE series (
        series_pk            INTEGER PRIMARY KEY,
        series_uid           TEXT NOT NULL UNIQUE,
        study_pk             INTEGER NOT NULL REFERENCES studies(study_pk) ON DELETE CASCADE,
        modality             TEXT,
        series_number        INTEGER,
        series_description   TEXT,
        body_part_examined   TEXT,
        pps_start_date       TEXT,
        pps_start_time       TEXT,
        num_instances        INTEGER NOT NULL DEFAULT 0,
        series_json          TEXT NOT NULL,  -- series level attributes (DICOM JSON)
        created_at           INTEGER NOT NULL,
        updated_at           INTEGER NOT NULL
      );
      CREATE INDEX series_study ON series(study_pk, series_number);
      CREATE INDEX series_modality ON series(modality);

      CREATE TABLE instances (
        instance_pk          INTEGER PRIMARY KEY,
        sop_instance_uid     TEXT NOT NULL UNIQUE,
        series_pk            INTEGER NOT NULL REFERENCES series(series_pk) ON DELETE CASCADE,
        study_pk             INTEGER NOT NULL REFERENCES studies(study_pk) ON DELETE CASCADE,
        sop_class_uid        TEXT NOT NULL,
        instance_number      INTEGER,
        rows                 INTEGER,
        columns              INTEGER,
        number_of_frames     INTEGER,
        transfer_syntax_uid  TEXT NOT NULL,
        file_path            TEXT NOT NULL,  -- relative to the store root
        file_size            INTEGER NOT NULL,
        sha256               TEXT NOT NULL,
        dataset_offset       INTEGER NOT NULL,
        pixel_data           TEXT,           -- JSON: positions of native or encapsulated Pixel Data
        metadata_json        TEXT NOT NULL,  -- the instance's DICOM JSON, BulkDataURIs relative
        created_at           INTEGER NOT NULL
      );
      CREATE INDEX instances_series ON instances(series_pk, instance_number);
      CREATE INDEX instances_study ON instances(study_pk);
      CREATE INDEX instances_sop_class ON instances(sop_class_uid);
    `,
  },
  {
    version: 2,
    description: 'QIDO-RS: match keys of every level, instance result attributes, modalities by study',
    sql: `
      -- Every value of every attribute at every level, in canonical form (match-key-records.ts):
      -- each QIDO condition is one range of this primary key. owner_pk is a study_pk (level 0),
      -- series_pk (1) or instance_pk (2).
      CREATE TABLE match_keys (
        level     INTEGER NOT NULL,
        attribute TEXT NOT NULL,
        key       TEXT NOT NULL,
        owner_pk  INTEGER NOT NULL,
        PRIMARY KEY (level, attribute, key, owner_pk)
      ) WITHOUT ROWID;
      -- The instance's attributes of a QIDO instance result (PS3.18 Table 10.6.3-5), so instance
      -- searches do not parse metadata_json.
      ALTER TABLE instances ADD COLUMN instance_json TEXT;
      -- Modalities in Study (0008,0061) of a study result, '\\'-separated in order: kept with the
      -- study so a result row needs no subquery; rewritten when a study gains a modality.
      CREATE INDEX study_modalities_by_study ON study_modalities(study_pk, modality);
      ALTER TABLE studies ADD COLUMN modalities TEXT;
      UPDATE studies SET modalities =
        (SELECT group_concat(modality, '\\') FROM (SELECT modality FROM study_modalities m
          WHERE m.study_pk = studies.study_pk ORDER BY modality));
    `,
    backfill: backfillSearchKeys,
  },
  {
    version: 3,
    description: 'WADO-RS: positions of frames and bulk data values per instance',
    sql: `
      -- instance-layout.ts, as JSON: where each frame and each bulk data value of the instance is
      -- in its file. Written at ingest; for instances stored before, computed on first retrieve.
      CREATE TABLE instance_layouts (
        instance_pk INTEGER PRIMARY KEY REFERENCES instances(instance_pk) ON DELETE CASCADE,
        layout      TEXT NOT NULL
      );
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

export function migrate(db: Database): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  const applied = new Set(
    (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version),
  );
  const newest = Math.max(0, ...applied);
  if (newest > SCHEMA_VERSION) {
    throw new Error(
      `The index was written by a newer gateway (schema ${newest}, this build knows ${SCHEMA_VERSION}); refusing to open it`,
    );
  }
  for (const m of MIGRATIONS) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      m.backfill?.(db);
      db.prepare('INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)').run(
        m.version,
        m.description,
        Date.now(),
      );
    })();
  }
}
