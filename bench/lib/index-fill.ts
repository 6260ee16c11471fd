/**
 * Fills an embedded store's index directly (no HTTP, no files) with `studies` small studies, to
 * measure how search cost grows with the archive. Uses the store's own insert path, so the rows
 * are exactly what STOW would have written, minus the instance files.
 */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { parsePart10Buffer } from '../../src/dicom/part10-parser';
import { toDicomJson, DicomJsonObject } from '../../src/dicom/dicom-json';
import { SqliteIndex } from '../../src/stores/local/sqlite-index';
import { syntheticInstance } from '../../test/fixtures/dicom-builder';

const ROOT = '1.2.826.0.1.3680043.10.11';

export const scaleStudyUid = (i: number) => `${ROOT}.${i + 1}`;
export const scalePatientId = (i: number) => `SPID${String(i % 40000).padStart(6, '0')}`;
export const scaleAccession = (i: number) => `SACC${String(i + 1).padStart(8, '0')}`;

export async function fillIndex(dataDir: string, studies: number): Promise<void> {
  const root = join(dataDir, 'stores', 'default');
  mkdirSync(root, { recursive: true });
  const parsed = await parsePart10Buffer(syntheticInstance({ rows: 4, columns: 4, seed: 1 }));
  const template = toDicomJson(parsed.dataset, { littleEndian: true, bulkDataUri: (p) => `bulkdata/${p}` });
  const index = new SqliteIndex(join(root, 'index.sqlite'));
  index.db.pragma('synchronous = OFF'); // a bulk fill of a throw-away bench index
  const set = (obj: DicomJsonObject, tag: string, vr: string, value: unknown) => (obj[tag] = { vr, Value: [value] });
  const BATCH = 5000;
  for (let start = 0; start < studies; start += BATCH) {
    index.db.transaction(() => {
      for (let i = start; i < Math.min(studies, start + BATCH); i++) {
        const m: DicomJsonObject = { ...template };
        const study = scaleStudyUid(i);
        set(m, '0020000D', 'UI', study);
        set(m, '0020000E', 'UI', `${study}.1`);
        set(m, '00080018', 'UI', `${study}.1.1`);
        set(m, '00100020', 'LO', scalePatientId(i));
        set(m, '00100010', 'PN', { Alphabetic: `SCALE^PATIENT${i % 40000}` });
        set(m, '00080050', 'SH', scaleAccession(i));
        set(m, '00080020', 'DA', `20${String(10 + (i % 15)).padStart(2, '0')}${String(1 + (i % 12)).padStart(2, '0')}${String(1 + (i % 28)).padStart(2, '0')}`);
        index.insertInstance({
          identity: { studyInstanceUid: study, seriesInstanceUid: `${study}.1`, sopInstanceUid: `${study}.1.1`, sopClassUid: '1.2.840.10008.5.1.4.1.1.2', transferSyntaxUid: '1.2.840.10008.1.2.1' },
          metadata: m,
          filePath: `blobs/none/${study}.dcm`,
          fileSize: 0,
          sha256: '0'.repeat(64),
          datasetOffset: 0,
          pixelData: undefined,
        });
      }
    })();
  }
  index.db.pragma('wal_checkpoint(TRUNCATE)');
  index.close();
}
