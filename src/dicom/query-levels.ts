/**
 * Which attributes belong to the study and series levels of the information model (PS3.18
 * Tables 10.6.3-3 and 10.6.3-4, PS3.4 C.6.2.1, plus the Patient IE, which DICOMweb folds into the
 * study). The embedded store keeps these per study and per series, so search answers never open
 * instance metadata.
 */
const PATIENT_GROUP = 0x0010;

const STUDY_LEVEL = new Set<number>([
  0x00080020, // StudyDate
  0x00080030, // StudyTime
  0x00080050, // AccessionNumber
  0x00080051, // IssuerOfAccessionNumberSequence
  0x00080090, // ReferringPhysicianName
  0x00080096, // ReferringPhysicianIdentificationSequence
  0x00080201, // TimezoneOffsetFromUTC
  0x00081030, // StudyDescription
  0x00081032, // ProcedureCodeSequence
  0x00081060, // NameOfPhysiciansReadingStudy
  0x00081080, // AdmittingDiagnosesDescription
  0x0020000d, // StudyInstanceUID
  0x00200010, // StudyID
  0x00321032, // RequestingPhysician
  0x00321060, // RequestedProcedureDescription
  0x00380010, // AdmissionID
]);

const SERIES_LEVEL = new Set<number>([
  0x00080021, // SeriesDate
  0x00080031, // SeriesTime
  0x00080060, // Modality
  0x00080070, // Manufacturer
  0x00081010, // StationName
  0x0008103e, // SeriesDescription
  0x0008103f, // SeriesDescriptionCodeSequence
  0x00081040, // InstitutionalDepartmentName
  0x00081050, // PerformingPhysicianName
  0x00081090, // ManufacturerModelName
  0x00080080, // InstitutionName
  0x00180015, // BodyPartExamined
  0x00185100, // PatientPosition
  0x0020000e, // SeriesInstanceUID
  0x00200011, // SeriesNumber
  0x00200052, // FrameOfReferenceUID
  0x00200060, // Laterality
  0x00400244, // PerformedProcedureStepStartDate
  0x00400245, // PerformedProcedureStepStartTime
  0x00400253, // PerformedProcedureStepID
  0x00400254, // PerformedProcedureStepDescription
  0x00400275, // RequestAttributesSequence
]);

export type QueryLevel = 'study' | 'series' | 'instance';

export function levelOfTag(tag: number): QueryLevel {
  if (tag >>> 16 === PATIENT_GROUP || STUDY_LEVEL.has(tag)) return 'study';
  if (SERIES_LEVEL.has(tag)) return 'series';
  return 'instance';
}
