/**
 * Turns an instance's DICOM JSON into the values of its index rows: the matching keys QIDO needs
 * as columns and as match_keys rows, and the study- and series-level attribute subsets as JSON.
 */
import { DicomJsonAttribute, DicomJsonObject } from '../../dicom/dicom-json';
import { stringifyDicomJson } from '../../dicom/dicom-json-stringify';
import { levelOfTag } from '../../dicom/query-levels';
import { INSTANCE_SUMMARY_TAGS } from '../../dicom/qido-attributes';
import { foldText } from '../../dicom/text-fold';
import { INSTANCE_INDEXED_VRS, MatchKeyRow, matchKeyRows } from './match-key-records';

export interface StudyRecord {
  patient_id: string | null;
  patient_name: string | null;
  patient_name_ideographic: string | null;
  patient_name_phonetic: string | null;
  patient_name_fold: string | null;
  patient_birth_date: string | null;
  patient_sex: string | null;
  study_date: string | null;
  study_time: string | null;
  accession_number: string | null;
  study_id: string | null;
  referring_physician_name: string | null;
  referring_physician_fold: string | null;
  study_description: string | null;
  study_json: string;
}

export interface SeriesRecord {
  modality: string | null;
  series_number: number | null;
  series_description: string | null;
  body_part_examined: string | null;
  pps_start_date: string | null;
  pps_start_time: string | null;
  series_json: string;
}

export interface InstanceRecord {
  instance_number: number | null;
  rows: number | null;
  columns: number | null;
  number_of_frames: number | null;
  /** The instance's own attributes of a QIDO instance result (PS3.18 Table 10.6.3-5). */
  instance_json: string;
}

/** match_keys rows per level; the UIDs and counts that have columns of their own are left out. */
export interface MatchKeyRecords {
  study: MatchKeyRow[];
  series: MatchKeyRow[];
  instance: MatchKeyRow[];
}

const STUDY_KEY_OPTIONS = { skip: new Set(['0020000D']), sequences: true };
const SERIES_KEY_OPTIONS = { skip: new Set(['0020000E']), sequences: true };
// Instance-level sequences (an SR's content tree, per-frame functional groups) can be huge and are
// not indexed; Specific Character Set is never matched (PS3.4 C.2.2.2).
const INSTANCE_KEY_OPTIONS = { skip: new Set(['00080016', '00080018', '00080005']), sequences: false, vrs: INSTANCE_INDEXED_VRS };

function first(obj: DicomJsonObject, tag: string): unknown {
  const v = obj[tag]?.Value;
  return v && v.length > 0 ? v[0] : undefined;
}

function text(obj: DicomJsonObject, tag: string): string | null {
  const v = first(obj, tag);
  return typeof v === 'string' || typeof v === 'number' ? String(v) : null;
}

function int(obj: DicomJsonObject, tag: string): number | null {
  const v = first(obj, tag);
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) ? Math.trunc(n) : null;
}

interface PersonName {
  Alphabetic?: string;
  Ideographic?: string;
  Phonetic?: string;
}

function personName(obj: DicomJsonObject, tag: string): PersonName | null {
  const v = first(obj, tag);
  return v && typeof v === 'object' ? (v as PersonName) : null;
}

function foldName(pn: PersonName | null): string | null {
  if (!pn) return null;
  const groups = [pn.Alphabetic, pn.Ideographic, pn.Phonetic].filter((g): g is string => !!g);
  return groups.length > 0 ? foldText(groups.join('=')) : null;
}

/** Splits the top-level attributes of an instance into its study-, series- and instance-level subsets. */
function splitLevels(metadata: DicomJsonObject): { study: DicomJsonObject; series: DicomJsonObject; instance: DicomJsonObject } {
  const study: Record<string, DicomJsonAttribute> = {};
  const series: Record<string, DicomJsonAttribute> = {};
  const instance: Record<string, DicomJsonAttribute> = {};
  for (const [tag, attr] of Object.entries(metadata)) {
    const level = levelOfTag(parseInt(tag, 16) >>> 0);
    if (level === 'study') study[tag] = attr;
    else if (level === 'series') series[tag] = attr;
    else instance[tag] = attr;
  }
  return { study, series, instance };
}

function summaryOf(instance: DicomJsonObject): DicomJsonObject {
  const out: Record<string, DicomJsonAttribute> = {};
  for (const [tag, attr] of Object.entries(instance)) {
    if (INSTANCE_SUMMARY_TAGS.has(parseInt(tag, 16) >>> 0)) out[tag] = attr;
  }
  return out;
}

export function buildIndexRecords(metadata: DicomJsonObject): {
  study: StudyRecord;
  series: SeriesRecord;
  instance: InstanceRecord;
  matchKeys: MatchKeyRecords;
} {
  const levels = splitLevels(metadata);
  const pn = personName(metadata, '00100010');
  const referring = personName(metadata, '00080090');
  return {
    study: {
      patient_id: text(metadata, '00100020'),
      patient_name: pn?.Alphabetic ?? null,
      patient_name_ideographic: pn?.Ideographic ?? null,
      patient_name_phonetic: pn?.Phonetic ?? null,
      patient_name_fold: foldName(pn),
      patient_birth_date: text(metadata, '00100030'),
      patient_sex: text(metadata, '00100040'),
      study_date: text(metadata, '00080020'),
      study_time: text(metadata, '00080030'),
      accession_number: text(metadata, '00080050'),
      study_id: text(metadata, '00200010'),
      referring_physician_name: referring?.Alphabetic ?? null,
      referring_physician_fold: foldName(referring),
      study_description: text(metadata, '00081030'),
      study_json: stringifyDicomJson(levels.study),
    },
    series: {
      modality: text(metadata, '00080060'),
      series_number: int(metadata, '00200011'),
      series_description: text(metadata, '0008103E'),
      body_part_examined: text(metadata, '00180015'),
      pps_start_date: text(metadata, '00400244'),
      pps_start_time: text(metadata, '00400245'),
      series_json: stringifyDicomJson(levels.series),
    },
    instance: {
      instance_number: int(metadata, '00200013'),
      rows: int(metadata, '00280010'),
      columns: int(metadata, '00280011'),
      number_of_frames: int(metadata, '00280008'),
      instance_json: stringifyDicomJson(summaryOf(levels.instance)),
    },
    matchKeys: {
      study: matchKeyRows(levels.study, STUDY_KEY_OPTIONS),
      series: matchKeyRows(levels.series, SERIES_KEY_OPTIONS),
      instance: matchKeyRows(levels.instance, INSTANCE_KEY_OPTIONS),
    },
  };
}
