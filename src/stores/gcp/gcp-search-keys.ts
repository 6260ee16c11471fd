/**
 * The match keys Google's DICOM stores search on (Cloud Healthcare conformance statement,
 * "Search transaction"; the list is UNCONFIRMED beyond these, see the README): the study keys on
 * every search, the series keys on series and instance searches, the SOP Instance UID on instance
 * searches. Other keys are matched by the gateway on the results, or refused when they cannot be.
 */
import { QidoLevel } from '../qido-query';

const STUDY_KEYS = [
  0x0020000d, // StudyInstanceUID
  0x00100010, // PatientName
  0x00100020, // PatientID
  0x00080050, // AccessionNumber
  0x00080090, // ReferringPhysicianName
  0x00080020, // StudyDate
];
const SERIES_KEYS = [
  0x0020000e, // SeriesInstanceUID
  0x00080060, // Modality
];
const INSTANCE_KEYS = [
  0x00080018, // SOPInstanceUID
];

const BY_LEVEL: Record<QidoLevel, ReadonlySet<number>> = {
  study: new Set(STUDY_KEYS),
  series: new Set([...STUDY_KEYS, ...SERIES_KEYS]),
  instance: new Set([...STUDY_KEYS, ...SERIES_KEYS, ...INSTANCE_KEYS]),
};

export function gcpSupportsKey(tag: number, searched: QidoLevel, sequence: boolean): boolean {
  return !sequence && BY_LEVEL[searched].has(tag);
}
