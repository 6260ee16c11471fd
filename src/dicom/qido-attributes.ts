/**
 * The attributes of QIDO-RS search results (PS3.18 10.6.3.3): which ones each level returns by
 * default (Tables 10.6.3-3, 10.6.3-4 and 10.6.3-5), which ones a server computes rather than reads
 * from instances, and the level each attribute belongs to.
 */
import { QueryLevel, levelOfTag } from './query-levels';

export const QidoTags = {
  SpecificCharacterSet: 0x00080005,
  SOPClassUID: 0x00080016,
  SOPInstanceUID: 0x00080018,
  InstanceAvailability: 0x00080056,
  ModalitiesInStudy: 0x00080061,
  TimezoneOffsetFromUTC: 0x00080201,
  RetrieveURL: 0x00081190,
  StudyInstanceUID: 0x0020000d,
  SeriesInstanceUID: 0x0020000e,
  NumberOfStudyRelatedSeries: 0x00201206,
  NumberOfStudyRelatedInstances: 0x00201208,
  NumberOfSeriesRelatedInstances: 0x00201209,
} as const;

export interface ResultAttribute {
  tag: number;
  /** Type R or U (PS3.4 C.2.2.1): returned even without a value. Type C: returned if known. */
  required: boolean;
}

const r = (tag: number): ResultAttribute => ({ tag, required: true });
const c = (tag: number): ResultAttribute => ({ tag, required: false });

/** Table 10.6.3-3, Study Resource Search Response Payload. */
export const STUDY_RESULT_ATTRIBUTES: readonly ResultAttribute[] = [
  r(0x00080020), // Study Date
  r(0x00080030), // Study Time
  r(0x00080050), // Accession Number
  c(QidoTags.InstanceAvailability),
  r(QidoTags.ModalitiesInStudy),
  r(0x00080090), // Referring Physician's Name
  c(QidoTags.TimezoneOffsetFromUTC),
  c(QidoTags.RetrieveURL),
  r(0x00100010), // Patient's Name
  r(0x00100020), // Patient ID
  r(0x00100030), // Patient's Birth Date
  r(0x00100040), // Patient's Sex
  r(QidoTags.StudyInstanceUID),
  r(0x00200010), // Study ID
  r(QidoTags.NumberOfStudyRelatedSeries),
  r(QidoTags.NumberOfStudyRelatedInstances),
];

/** Table 10.6.3-4, Series Resources Search Response Payload. */
export const SERIES_RESULT_ATTRIBUTES: readonly ResultAttribute[] = [
  r(0x00080060), // Modality
  c(QidoTags.TimezoneOffsetFromUTC),
  c(0x0008103e), // Series Description
  c(QidoTags.RetrieveURL),
  r(QidoTags.SeriesInstanceUID),
  r(0x00200011), // Series Number
  r(QidoTags.NumberOfSeriesRelatedInstances),
  c(0x00400244), // Performed Procedure Step Start Date
  c(0x00400245), // Performed Procedure Step Start Time
  c(0x00400275), // Request Attributes Sequence
];

/** Table 10.6.3-5, Instance Resources Search Response Payload. */
export const INSTANCE_RESULT_ATTRIBUTES: readonly ResultAttribute[] = [
  r(QidoTags.SOPClassUID),
  r(QidoTags.SOPInstanceUID),
  c(QidoTags.InstanceAvailability),
  c(QidoTags.TimezoneOffsetFromUTC),
  r(QidoTags.RetrieveURL),
  r(0x00200013), // Instance Number
  c(0x00280010), // Rows
  c(0x00280011), // Columns
  c(0x00280100), // Bits Allocated
  c(0x00280008), // Number of Frames
];

export const RESULT_ATTRIBUTES: Record<QueryLevel, readonly ResultAttribute[]> = {
  study: STUDY_RESULT_ATTRIBUTES,
  series: SERIES_RESULT_ATTRIBUTES,
  instance: INSTANCE_RESULT_ATTRIBUTES,
};

/**
 * The level an attribute belongs to for QIDO: the information model's level (query-levels.ts),
 * except for the attributes a server computes. Instance Availability exists at every level; it is
 * reported here as the instance's and looked up per level where it is used.
 */
export function qidoLevelOfTag(tag: number): QueryLevel {
  switch (tag) {
    case QidoTags.ModalitiesInStudy:
    case QidoTags.NumberOfStudyRelatedSeries:
    case QidoTags.NumberOfStudyRelatedInstances:
      return 'study';
    case QidoTags.NumberOfSeriesRelatedInstances:
      return 'series';
    default:
      return levelOfTag(tag);
  }
}

/** Instance-level attributes of Table 10.6.3-5 that come from the instance itself (not computed,
 *  not study-level like Timezone Offset From UTC): a store can keep just these for instance results. */
export const INSTANCE_SUMMARY_TAGS: ReadonlySet<number> = new Set(
  INSTANCE_RESULT_ATTRIBUTES.map((a) => a.tag).filter(
    (t) => qidoLevelOfTag(t) === 'instance' && t !== QidoTags.InstanceAvailability && t !== QidoTags.RetrieveURL,
  ),
);

export const LEVEL_DEPTH: Record<QueryLevel, number> = { study: 0, series: 1, instance: 2 };
