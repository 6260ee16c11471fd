/**
 * The QIDO data set: 1,000 small studies x 3 series x 2 instances over 400 patients, with varied
 * names, dates and modalities. Deterministic: the same seed gives the same archive.
 */
import { syntheticInstance } from '../../test/fixtures/dicom-builder';

const FAMILY = ['SMITH', 'JOHNSON', 'WILLIAMS', 'BROWN', 'JONES', 'GARCIA', 'MILLER', 'DAVIS', 'MARTINEZ', 'LOPEZ', 'WANG', 'LI', 'ZHANG', 'MULLER', 'SCHMIDT', 'DUBOIS', 'ROSSI', 'SATO', 'SUZUKI', 'KIM'];
const GIVEN = ['JOHN', 'MARY', 'JAMES', 'ANNA', 'LUCAS', 'EMMA', 'NOAH', 'MIA', 'LEO', 'SOFIA', 'YUKI', 'MIN', 'WEI', 'OLGA', 'PIERRE', 'LENA', 'OMAR', 'SARA', 'IVAN', 'EVA'];
const MODALITIES = ['CT', 'MR', 'PT', 'US', 'CR', 'DX', 'MG', 'NM'];

export interface QidoStudy {
  studyUid: string;
  patientId: string;
  patientName: string;
  studyDate: string;
  accession: string;
  instances: Buffer[];
}

export function qidoStudy(i: number, root = '1.2.826.0.1.3680043.10.8'): QidoStudy {
  const patient = i % 400;
  const patientId = `PID${String(patient).padStart(4, '0')}`;
  const patientName = `${FAMILY[patient % FAMILY.length]}^${GIVEN[Math.floor(patient / FAMILY.length) % GIVEN.length]}`;
  const day = (i * 7919) % 9000; // spread over ~25 years
  const date = new Date(Date.UTC(2000, 0, 1) + day * 86400000);
  const studyDate = date.toISOString().slice(0, 10).replace(/-/g, '');
  const studyUid = `${root}.${i + 1}`;
  const accession = `ACC${String(i + 1).padStart(6, '0')}`;
  const instances: Buffer[] = [];
  for (let s = 0; s < 3; s++) {
    const modality = MODALITIES[(i + s * 3) % MODALITIES.length];
    for (let k = 0; k < 2; k++) {
      instances.push(
        syntheticInstance({
          studyUid,
          seriesUid: `${studyUid}.${s + 1}`,
          sopInstanceUid: `${studyUid}.${s + 1}.${k + 1}`,
          patientId,
          patientName,
          studyDate,
          accessionNumber: accession,
          seriesNumber: s + 1,
          instanceNumber: k + 1,
          studyDescription: `Study ${i + 1}`,
          rows: 16,
          columns: 16,
          seed: i * 10 + s * 2 + k,
          extraElements: [{ tag: 'Modality', value: modality }],
        }),
      );
    }
  }
  return { studyUid, patientId, patientName, studyDate, accession, instances };
}
