/**
 * The six QIDO-RS searches of HealthImaging (developer guide "dicomweb-search*"): the match keys
 * it documents per level, limit <= 1000 (default 1000), offset <= 1,000,000, at most 50
 * includefield values, and its orders - studies by last update descending, series by SeriesNumber,
 * a series' instances by InstanceNumber, a study's (and, by assumption, all) instances by last
 * update descending. Nothing found is an empty JSON array (assumption: not 204).
 */
import { ServerResponse } from 'node:http';
import { T, resolveAttribute } from '../dicom-archive/dicom-tags';
import { QidoLevel, QidoQueryPolicy, parseQidoQuery, parseQueryString } from '../dicom-archive/qido-query';
import { QidoOrder, qidoOrders, searchInstances } from '../dicom-archive/qido-search';
import { DicomwebRoute } from './dicomweb-routes';
import { FakeState, instanceUrl } from './fake-state';

const STUDY_KEYS = [
  'StudyDate',
  'StudyTime',
  'AccessionNumber',
  'ModalitiesInStudy',
  'ReferringPhysicianName',
  'StudyDescription',
  'PatientName',
  'PatientID',
  'PatientBirthDate',
  'PatientBirthTime',
  'StudyInstanceUID',
  'StudyID',
];
const SERIES_KEYS = ['Modality', 'SeriesInstanceUID', 'SeriesNumber', 'PerformedProcedureStepStartDate', 'PerformedProcedureStepStartTime'];
const INSTANCE_KEYS = ['SOPInstanceUID', 'SOPClassUID', 'InstanceNumber', 'WarningReason'];

function tags(keywords: string[]): Set<string> {
  return new Set(keywords.map((k) => resolveAttribute(k)!.tag));
}

const ALLOWED: Record<QidoLevel, ReadonlySet<string>> = {
  studies: tags(STUDY_KEYS),
  series: tags([...STUDY_KEYS, ...SERIES_KEYS]),
  instances: tags([...STUDY_KEYS, ...SERIES_KEYS, ...INSTANCE_KEYS]),
};

function levelOf(route: DicomwebRoute): QidoLevel {
  if (route.operation === 'SearchDICOMStudies') return 'studies';
  if (route.operation === 'SearchDICOMSeries' || route.operation === 'SearchDICOMAllSeries') return 'series';
  return 'instances';
}

function orderOf(route: DicomwebRoute): QidoOrder {
  switch (route.operation) {
    case 'SearchDICOMSeries':
    case 'SearchDICOMAllSeries':
      return qidoOrders.numberAscending(T.SeriesNumber);
    case 'SearchDICOMInstances':
      return qidoOrders.numberAscending(T.InstanceNumber);
    default:
      return qidoOrders.lastUpdateDescending;
  }
}

export function qidoPolicy(state: FakeState): QidoQueryPolicy {
  const c = state.config;
  return {
    allowedKeys: (level) => ALLOWED[level],
    defaultLimit: Math.min(1000, c.qidoMaxLimit),
    maxLimit: c.qidoMaxLimit,
    maxOffset: c.qidoMaxOffset,
    maxIncludeFields: c.qidoMaxIncludeFields,
  };
}

/** Throws ArchiveInvalidQuery for a query HealthImaging refuses (answered 400 ValidationException). */
export function answerSearch(res: ServerResponse, route: DicomwebRoute, rawQuery: string, state: FakeState): void {
  const scope = { level: levelOf(route), studyInstanceUid: route.study, seriesInstanceUid: route.series };
  const query = parseQidoQuery(parseQueryString(rawQuery), scope, qidoPolicy(state));
  const results = searchInstances(state.archive.visibleInstances(), query, {
    order: orderOf(route),
    bulkDataUri: (i, key) => `${instanceUrl(state, i.studyInstanceUid, i.seriesInstanceUid, i.sopInstanceUid)}/bulkdata/${key}`,
    // Only instances have a retrieve operation on HealthImaging; studies and series have none.
    retrieveUrl: (e) => (e.level === 'instances' ? instanceUrl(state, e.studyInstanceUid, e.seriesInstanceUid!, e.sopInstanceUid!) : undefined),
  });
  const body = Buffer.from(JSON.stringify(results));
  res.writeHead(200, { 'content-type': 'application/dicom+json', 'content-length': body.length });
  res.end(body);
}
