/**
 * The match keys HealthImaging's DICOMweb search accepts (developer guide, "Searching": the study
 * keys on every search, the series keys on series and instance searches). Other keys are matched
 * by the gateway on the results (qido-post-filter.ts), or refused when the results cannot carry
 * them (a relational key of a lower level, a sequence key).
 */
import { QidoLevel } from '../qido-query';

const STUDY_KEYS = [
  0x00080020, // StudyDate
  0x00080030, // StudyTime
  0x00080050, // AccessionNumber
  0x00080061, // ModalitiesInStudy
  0x00080090, // ReferringPhysicianName
  0x00081030, // StudyDescription
  0x00100010, // PatientName
  0x00100020, // PatientID
  0x00100030, // PatientBirthDate
  0x00100032, // PatientBirthTime
  0x0020000d, // StudyInstanceUID
  0x00200010, // StudyID
];
const SERIES_KEYS = [
  0x00080060, // Modality
  0x0020000e, // SeriesInstanceUID
  0x00200011, // SeriesNumber
  0x00400244, // PerformedProcedureStepStartDate
  0x00400245, // PerformedProcedureStepStartTime
];
/** "Instance search can filter on WarningReason"; the instance's own identifiers are assumed. */
const INSTANCE_KEYS = [
  0x00080018, // SOPInstanceUID
  0x00080016, // SOPClassUID
  0x00200013, // InstanceNumber
  0x00081196, // WarningReason
];

const BY_LEVEL: Record<QidoLevel, ReadonlySet<number>> = {
  study: new Set(STUDY_KEYS),
  series: new Set([...STUDY_KEYS, ...SERIES_KEYS]),
  instance: new Set([...STUDY_KEYS, ...SERIES_KEYS, ...INSTANCE_KEYS]),
};

export function healthImagingSupportsKey(tag: number, searched: QidoLevel, sequence: boolean): boolean {
  return !sequence && BY_LEVEL[searched].has(tag);
}
