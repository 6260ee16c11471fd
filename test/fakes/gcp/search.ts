/**
 * QIDO-RS on the fake DICOM store (reference 2.4): the six search resources; `limit` default 100
 * for studies and series, 1000 for instances; a `limit` over 5000 (studies, series) or 50000
 * (instances) is 400 INVALID_ARGUMENT naming the maximum (Google's behaviour there is UNCONFIRMED:
 * strict, so that an adapter that does not page is caught); match keys are those Google documents
 * as searchable, any other is 400 naming it; `*` or `?` in a value is 400 (wildcards are not
 * documented by Google, so the gateway has to match them itself). Exact matching, UID lists,
 * StudyDate ranges, fuzzymatching on person names, includefield, offset. Nothing found: 200 `[]`.
 * Results are ordered by UID (Google's order is UNCONFIRMED); a page that leaves more matches
 * behind carries PS3.18's Warning 299.
 */
import { ServerResponse } from 'node:http';
import { ArchiveInvalidQuery } from '../dicom-archive/archive-errors';
import { StoredInstance } from '../dicom-archive/dicom-archive';
import { resolveAttribute } from '../dicom-archive/dicom-tags';
import { QidoLevel, QidoQueryPolicy, parseQidoQuery, parseQueryString } from '../dicom-archive/qido-query';
import { searchInstances } from '../dicom-archive/qido-search';
import { DicomwebRoute } from './dicomweb-routes';
import { GcpFakeConfig, instanceUrl, seriesUrl, studyUrl } from './gcp-config';
import { bulkDataUri } from './retrieve';

export const QIDO_LIMITS: Record<QidoLevel, { defaultLimit: number; maxLimit: number }> = {
  studies: { defaultLimit: 100, maxLimit: 5000 },
  series: { defaultLimit: 100, maxLimit: 5000 },
  instances: { defaultLimit: 1000, maxLimit: 50000 },
};

const STUDY_KEYS = ['StudyInstanceUID', 'PatientName', 'PatientID', 'AccessionNumber', 'ReferringPhysicianName', 'StudyDate'];
const SERIES_KEYS = ['SeriesInstanceUID', 'Modality'];
const INSTANCE_KEYS = ['SOPInstanceUID'];

const tags = (keywords: string[]) => new Set(keywords.map((k) => resolveAttribute(k)!.tag));
const ALLOWED: Record<QidoLevel, ReadonlySet<string>> = {
  studies: tags(STUDY_KEYS),
  series: tags([...STUDY_KEYS, ...SERIES_KEYS]),
  instances: tags([...STUDY_KEYS, ...SERIES_KEYS, ...INSTANCE_KEYS]),
};

export function levelOf(route: DicomwebRoute): QidoLevel {
  if (route.operation === 'dicomStores.searchForStudies') return 'studies';
  if (route.operation === 'dicomStores.searchForSeries' || route.operation === 'dicomStores.studies.searchForSeries') return 'series';
  return 'instances';
}

function policy(level: QidoLevel): QidoQueryPolicy {
  return {
    allowedKeys: (l) => ALLOWED[l],
    defaultLimit: QIDO_LIMITS[level].defaultLimit,
    maxLimit: QIDO_LIMITS[level].maxLimit,
    // Google documents no maximum offset nor includefield count: none is enforced.
    maxOffset: Number.MAX_SAFE_INTEGER,
    maxIncludeFields: Number.MAX_SAFE_INTEGER,
  };
}

export function answerSearch(res: ServerResponse, route: DicomwebRoute, rawQuery: string, visible: StoredInstance[], config: GcpFakeConfig): void {
  const level = levelOf(route);
  const scope = { level, studyInstanceUid: route.study, seriesInstanceUid: route.series };
  const query = parseQidoQuery(parseQueryString(rawQuery), scope, policy(level));
  for (const key of query.keys) {
    if (key.values.some((v) => v.includes('*') || v.includes('?'))) {
      throw new ArchiveInvalidQuery(`wildcard matching is not supported: the value of "${key.name}" contains * or ?`);
    }
  }
  // One more than the page tells whether matches are left behind.
  const results = searchInstances(visible, { ...query, limit: query.limit + 1 }, {
    bulkDataUri: (i, key) => bulkDataUri(config, i, key),
    retrieveUrl: (e) =>
      e.level === 'studies'
        ? studyUrl(config, e.studyInstanceUid)
        : e.level === 'series'
          ? seriesUrl(config, e.studyInstanceUid, e.seriesInstanceUid!)
          : instanceUrl(config, e.studyInstanceUid, e.seriesInstanceUid!, e.sopInstanceUid!),
  });
  const more = results.length > query.limit;
  const body = Buffer.from(JSON.stringify(results.slice(0, query.limit)));
  res.writeHead(200, {
    'content-type': 'application/dicom+json',
    'content-length': body.length,
    ...(more ? { warning: '299 healthcare.googleapis.com: "The number of results exceeded the maximum supported by the server. Additional results can be requested."' } : {}),
  });
  res.end(body);
}
