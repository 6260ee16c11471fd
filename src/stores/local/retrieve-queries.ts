/**
 * The index queries of WADO-RS on the embedded store: which instances a study, series or instance
 * URL addresses (all three UIDs must agree, so /studies/A/series/B/... never serves a series of
 * another study), and the stored DICOM JSON, a page at a time.
 */
import type { Database, Statement } from 'better-sqlite3';
import { InstanceRef, RetrieveScope } from '../wado-types';

export interface RetrieveRow {
  instance_pk: number;
  sop_instance_uid: string;
  series_uid: string;
  study_uid: string;
  sop_class_uid: string;
  transfer_syntax_uid: string;
  file_path: string;
  file_size: number;
  dataset_offset: number;
  layout: string | null;
}

export interface MetadataRow {
  instance_pk: number;
  sop_instance_uid: string;
  series_uid: string;
  study_uid: string;
  metadata_json: string;
}

const COLUMNS = `i.instance_pk, i.sop_instance_uid, se.series_uid, st.study_uid, i.sop_class_uid, i.transfer_syntax_uid,
  i.file_path, i.file_size, i.dataset_offset, l.layout`;
const FROM = `FROM instances i JOIN series se ON se.series_pk = i.series_pk JOIN studies st ON st.study_pk = i.study_pk
  LEFT JOIN instance_layouts l ON l.instance_pk = i.instance_pk`;
/** Series in series number order, instances in instance number order, as viewers list them. */
const ORDER = 'ORDER BY se.series_number, se.series_pk, i.instance_number, i.instance_pk';

export class RetrieveQueries {
  private readonly byStudy: Statement;
  private readonly bySeries: Statement;
  private readonly byInstance: Statement;
  private readonly metadataByStudy: Statement;
  private readonly metadataBySeries: Statement;
  private readonly metadataByInstance: Statement;

  constructor(db: Database) {
    this.byStudy = db.prepare(`SELECT ${COLUMNS} ${FROM} WHERE st.study_uid = ? ${ORDER}`);
    this.bySeries = db.prepare(`SELECT ${COLUMNS} ${FROM} WHERE se.series_uid = ? AND st.study_uid = ? ${ORDER}`);
    this.byInstance = db.prepare(`SELECT ${COLUMNS} ${FROM} WHERE i.sop_instance_uid = ? AND se.series_uid = ? AND st.study_uid = ?`);
    // Keyset pages in instance_pk order: the index on study_pk / series_pk serves them directly.
    const metadataColumns = 'i.instance_pk, i.sop_instance_uid, se.series_uid, st.study_uid, i.metadata_json';
    const metadataFrom = 'FROM instances i JOIN series se ON se.series_pk = i.series_pk JOIN studies st ON st.study_pk = i.study_pk';
    this.metadataByStudy = db.prepare(
      `SELECT ${metadataColumns} ${metadataFrom} WHERE i.study_pk = (SELECT study_pk FROM studies WHERE study_uid = ?)
         AND i.instance_pk > ? ORDER BY i.instance_pk LIMIT ?`,
    );
    this.metadataBySeries = db.prepare(
      `SELECT ${metadataColumns} ${metadataFrom} WHERE se.series_uid = ? AND st.study_uid = ?
         AND i.instance_pk > ? ORDER BY i.instance_pk LIMIT ?`,
    );
    this.metadataByInstance = db.prepare(
      `SELECT ${metadataColumns} ${metadataFrom} WHERE i.sop_instance_uid = ? AND se.series_uid = ? AND st.study_uid = ?
         AND i.instance_pk > ? LIMIT ?`,
    );
  }

  instances(scope: RetrieveScope): RetrieveRow[] {
    switch (scope.level) {
      case 'study':
        return this.byStudy.all(scope.studyInstanceUid) as RetrieveRow[];
      case 'series':
        return this.bySeries.all(scope.seriesInstanceUid, scope.studyInstanceUid) as RetrieveRow[];
      case 'instance':
        return this.byInstance.all(scope.sopInstanceUid, scope.seriesInstanceUid, scope.studyInstanceUid) as RetrieveRow[];
    }
  }

  instance(ref: InstanceRef): RetrieveRow | undefined {
    return this.byInstance.get(ref.sopInstanceUid, ref.seriesInstanceUid, ref.studyInstanceUid) as RetrieveRow | undefined;
  }

  metadataPage(scope: RetrieveScope, afterPk: number, limit: number): MetadataRow[] {
    switch (scope.level) {
      case 'study':
        return this.metadataByStudy.all(scope.studyInstanceUid, afterPk, limit) as MetadataRow[];
      case 'series':
        return this.metadataBySeries.all(scope.seriesInstanceUid, scope.studyInstanceUid, afterPk, limit) as MetadataRow[];
      case 'instance':
        return this.metadataByInstance.all(scope.sopInstanceUid, scope.seriesInstanceUid, scope.studyInstanceUid, afterPk, limit) as MetadataRow[];
    }
  }
}
