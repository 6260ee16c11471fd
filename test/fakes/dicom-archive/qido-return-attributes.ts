/**
 * The attributes a QIDO-RS result carries without includefield, per level: PS3.18 Tables
 * 10.6.3-3 (study), 10.6.3-4 (series) and 10.6.3-5 (instance). RetrieveURL is only added when the
 * cloud layer says where a resource can be retrieved.
 */
import { T } from './dicom-tags';
import { QidoLevel } from './qido-query';

export const STUDY_RETURN_TAGS: readonly string[] = [
  T.SpecificCharacterSet,
  T.StudyDate,
  T.StudyTime,
  T.AccessionNumber,
  T.InstanceAvailability,
  T.ModalitiesInStudy,
  T.ReferringPhysicianName,
  T.TimezoneOffsetFromUTC,
  T.RetrieveURL,
  T.PatientName,
  T.PatientID,
  T.PatientBirthDate,
  T.PatientSex,
  T.StudyInstanceUID,
  T.StudyID,
  T.NumberOfStudyRelatedSeries,
  T.NumberOfStudyRelatedInstances,
];

export const SERIES_RETURN_TAGS: readonly string[] = [
  T.SpecificCharacterSet,
  T.Modality,
  T.TimezoneOffsetFromUTC,
  T.SeriesDescription,
  T.RetrieveURL,
  T.SeriesInstanceUID,
  T.SeriesNumber,
  T.NumberOfSeriesRelatedInstances,
  T.PerformedProcedureStepStartDate,
  T.PerformedProcedureStepStartTime,
  T.RequestAttributesSequence,
];

export const INSTANCE_RETURN_TAGS: readonly string[] = [
  T.SpecificCharacterSet,
  T.SOPClassUID,
  T.SOPInstanceUID,
  T.InstanceAvailability,
  T.TimezoneOffsetFromUTC,
  T.RetrieveURL,
  T.InstanceNumber,
  T.Rows,
  T.Columns,
  T.BitsAllocated,
  T.NumberOfFrames,
];

/**
 * Tags returned by default for a search at `level`. A higher level's attributes come along when
 * the path does not fix that level (/series carries the study's, /instances both), and the UIDs
 * of the higher levels always do, so every result says where it belongs.
 */
export function defaultReturnTags(level: QidoLevel, studyInPath: boolean, seriesInPath: boolean): Set<string> {
  const tags = new Set<string>();
  const add = (list: readonly string[]) => list.forEach((t) => tags.add(t));
  if (level === 'studies') add(STUDY_RETURN_TAGS);
  if (level === 'series') {
    add(SERIES_RETURN_TAGS);
    if (!studyInPath) add(STUDY_RETURN_TAGS);
  }
  if (level === 'instances') {
    add(INSTANCE_RETURN_TAGS);
    if (!seriesInPath) add(SERIES_RETURN_TAGS);
    if (!studyInPath) add(STUDY_RETURN_TAGS);
  }
  tags.add(T.StudyInstanceUID);
  if (level !== 'studies') tags.add(T.SeriesInstanceUID);
  return tags;
}
