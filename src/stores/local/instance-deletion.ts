/**
 * Deleting one instance from the embedded store (edge retention: spool, forward, free the disk),
 * so that the index is as if the instance had never been stored: its rows and match keys gone,
 * the counters and Modalities in Study of its series and study recomputed, an emptied series or
 * study removed with its match keys.
 *
 * Order (LocalStore.deleteInstance): the rows in one transaction first, the file after. A crash
 * in between leaves a file no row points at, never a row without its file.
 */
import type { Database, Statement } from 'better-sqlite3';
import { unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DicomJsonObject } from '../../dicom/dicom-json';
import { buildIndexRecords } from './index-record';
import type { LocalRetrieve } from './local-retrieve';
import { MatchKeyLevel, MatchKeyRow } from './match-key-records';
import { fsyncDirectory } from './durable-files';
import { storedFilePath } from './stored-file';

/** What the file side needs once the rows are gone. */
export interface DeletedInstance {
  instancePk: number;
  /** Relative to the store root, as indexed. */
  filePath: string;
  fileSize: number;
}

interface InstanceRow {
  instance_pk: number;
  series_pk: number;
  study_pk: number;
  file_path: string;
  file_size: number;
  metadata_json: string;
}

/** Prepared once per database (statements are bound to their connection). */
const statementsByDb = new WeakMap<Database, Record<string, Statement>>();

function statements(db: Database): Record<string, Statement> {
  let s = statementsByDb.get(db);
  if (!s) {
    s = {
      instance: db.prepare(
        'SELECT instance_pk, series_pk, study_pk, file_path, file_size, metadata_json FROM instances WHERE sop_instance_uid = ?',
      ),
      deleteKey: db.prepare('DELETE FROM match_keys WHERE level = ? AND attribute = ? AND key = ? AND owner_pk = ?'),
      // Fallback only (see deleteMatchKeys): the primary key does not lead with owner_pk, so this
      // reads every key of the level.
      deleteKeysOfOwner: db.prepare('DELETE FROM match_keys WHERE level = ? AND owner_pk = ?'),
      deleteLayout: db.prepare('DELETE FROM instance_layouts WHERE instance_pk = ?'),
      deleteInstance: db.prepare('DELETE FROM instances WHERE instance_pk = ?'),
      dropSeriesInstance: db.prepare(
        'UPDATE series SET num_instances = num_instances - 1, updated_at = ? WHERE series_pk = ? RETURNING num_instances, series_json',
      ),
      deleteSeries: db.prepare('DELETE FROM series WHERE series_pk = ?'),
      dropStudyInstance: db.prepare(
        `UPDATE studies SET num_instances = num_instances - 1, num_series = num_series - ?, updated_at = ?
         WHERE study_pk = ? RETURNING num_instances, study_json`,
      ),
      deleteStudyModalities: db.prepare('DELETE FROM study_modalities WHERE study_pk = ?'),
      // As insertInstance adds them: every non-empty Modality of the study's series.
      insertStudyModalities: db.prepare(
        `INSERT OR IGNORE INTO study_modalities (study_pk, modality)
         SELECT DISTINCT study_pk, modality FROM series WHERE study_pk = ? AND modality IS NOT NULL AND modality <> ''`,
      ),
      // The same statement as sqlite-index.ts's updateModalities: NULL when the study has none.
      updateModalities: db.prepare(`
        UPDATE studies SET modalities = (SELECT group_concat(modality, '\\') FROM
          (SELECT modality FROM study_modalities WHERE study_pk = ? ORDER BY modality)) WHERE study_pk = ?`),
      deleteStudy: db.prepare('DELETE FROM studies WHERE study_pk = ?'),
    };
    statementsByDb.set(db, s);
  }
  return s;
}

/**
 * Removes the index rows of one instance in one transaction (nested in the caller's, if any) and
 * returns where its file is, or undefined when the instance is not indexed.
 *
 * Study and series rows keep their JSON and columns (study- and series-level attributes, the same
 * for every instance; written from the first instance of each): only their counters and the
 * study's modalities change, unless the instance was the last of its series or study, whose row
 * then goes with its match keys.
 *
 * Modalities in Study are recomputed from the remaining series' Modality column. insertInstance
 * adds the Modality of every instance; the two differ only for a series whose instances disagree
 * on Modality (a series-level attribute), which this does not re-read every instance to find.
 */
export function deleteInstanceRows(db: Database, sopInstanceUid: string): DeletedInstance | undefined {
  const s = statements(db);
  return db.transaction((): DeletedInstance | undefined => {
    const row = s.instance.get(sopInstanceUid) as InstanceRow | undefined;
    if (!row) return undefined;
    const now = Date.now();
    deleteMatchKeys(s, MatchKeyLevel.instance, instanceKeys(row.metadata_json), row.instance_pk);
    s.deleteLayout.run(row.instance_pk); // also ON DELETE CASCADE; explicit so it holds without foreign_keys=ON
    s.deleteInstance.run(row.instance_pk);

    const series = s.dropSeriesInstance.get(now, row.series_pk) as { num_instances: number; series_json: string } | undefined;
    if (!series) throw new Error(`index inconsistency: series ${row.series_pk} of instance ${sopInstanceUid} is missing`);
    const seriesGone = series.num_instances <= 0;
    if (seriesGone) {
      // The series' keys were made from its series-level attributes, which series_json holds.
      deleteMatchKeys(s, MatchKeyLevel.series, levelKeys(series.series_json).series, row.series_pk);
      s.deleteSeries.run(row.series_pk);
    }

    const study = s.dropStudyInstance.get(seriesGone ? 1 : 0, now, row.study_pk) as
      | { num_instances: number; study_json: string }
      | undefined;
    if (!study) throw new Error(`index inconsistency: study ${row.study_pk} of instance ${sopInstanceUid} is missing`);
    if (study.num_instances <= 0) {
      deleteMatchKeys(s, MatchKeyLevel.study, levelKeys(study.study_json).study, row.study_pk);
      s.deleteStudyModalities.run(row.study_pk);
      s.deleteStudy.run(row.study_pk); // its series rows are gone already (num_instances counts them all)
    } else if (seriesGone) {
      // Only a removed series can take a modality away from the study.
      s.deleteStudyModalities.run(row.study_pk);
      s.insertStudyModalities.run(row.study_pk);
      s.updateModalities.run(row.study_pk, row.study_pk);
    }
    return { instancePk: row.instance_pk, filePath: row.file_path, fileSize: row.file_size };
  })();
}

function instanceKeys(metadataJson: string): MatchKeyRow[] {
  return buildIndexRecords(JSON.parse(metadataJson) as DicomJsonObject).matchKeys.instance;
}

/** The match keys of a study_json or series_json: that level's attributes alone give the same keys. */
function levelKeys(levelJson: string): { study: MatchKeyRow[]; series: MatchKeyRow[] } {
  return buildIndexRecords(JSON.parse(levelJson) as DicomJsonObject).matchKeys;
}

/**
 * Deletes an owner's match keys by their full primary key, derived again from the stored JSON as
 * insertInstance (and the migration 2 backfill) derived them: a few B-tree seeks, where deleting
 * by owner_pk would read every key of the level. Should a derived key be missing (keys written by
 * a build that derived them differently), the owner's keys are deleted by a scan instead, so none
 * is left to match a later row that takes the same pk.
 */
function deleteMatchKeys(s: Record<string, Statement>, level: number, keys: MatchKeyRow[], ownerPk: number): void {
  const seen = new Set<string>();
  let missing = false;
  for (const k of keys) {
    const id = `${k.attribute}\u0000${k.key}`;
    if (seen.has(id)) continue; // a value repeated in a multi-valued attribute is one row
    seen.add(id);
    if (s.deleteKey.run(level, k.attribute, k.key, ownerPk).changes === 0) missing = true;
  }
  if (missing) s.deleteKeysOfOwner.run(level, ownerPk);
}

/**
 * After the rows are gone: forget what the retrieve side keeps of the instance. Its open read
 * handle (a handle on the unlinked file, or worse on a later file at the same path), and its
 * parsed layout, cached by instance_pk: SQLite gives the next instance the same pk when the
 * deleted one had the highest, and that instance must not be read with this one's layout.
 */
export function forgetRetrieveCaches(retrieve: LocalRetrieve, root: string, deleted: DeletedInstance): void {
  retrieve.handles.forget(storedFilePath(root, deleted.filePath));
  retrieve.layouts.forget(deleted.instancePk);
}

/** Unlinks a stored file and fsyncs its folder. Returns false when the file was already gone. */
export async function removeStoredFile(root: string, relativePath: string): Promise<boolean> {
  const absolute = storedFilePath(root, relativePath);
  let removed = true;
  try {
    await unlink(absolute);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    removed = false;
  }
  // Emptied series and study folders are kept: removing them raced a store of a new instance
  // into the same series (its mkdir, then its rename into the folder just removed), and CI caught
  // it. An empty folder costs one inode.
  await fsyncDirectory(dirname(absolute)).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw e;
  });
  return removed;
}
