/**
 * The DICOMweb operations of AWS HealthImaging (reference 1.3), and nothing more: the route of a
 * request under /datastore/{datastoreId}, its AWS operation name and the IAM action an allowed
 * caller needs. Everything else (study/series retrieve, study metadata, rendered, thumbnails,
 * DELETE, ...) is an unknown operation.
 */
export type DicomwebOperation =
  | 'StoreDICOM'
  | 'StoreDICOMStudy'
  | 'SearchDICOMStudies'
  | 'SearchDICOMSeries'
  | 'SearchDICOMAllSeries'
  | 'SearchDICOMInstances'
  | 'SearchDICOMStudyInstances'
  | 'SearchDICOMAllInstances'
  | 'GetDICOMInstance'
  | 'GetDICOMInstanceMetadata'
  | 'GetDICOMSeriesMetadata'
  | 'GetDICOMInstanceFrames'
  | 'GetDICOMBulkdata';

export interface DicomwebRoute {
  operation: DicomwebOperation;
  datastoreId: string;
  study?: string;
  series?: string;
  instance?: string;
  /** Frame list or bulk data key. */
  tail?: string;
}

/** IAM actions: the search operations share three actions (Service Authorization Reference). */
export const IAM_ACTION: Record<DicomwebOperation, string> = {
  StoreDICOM: 'StoreDICOM',
  StoreDICOMStudy: 'StoreDICOMStudy',
  SearchDICOMStudies: 'SearchDICOMStudies',
  SearchDICOMSeries: 'SearchDICOMSeries',
  SearchDICOMAllSeries: 'SearchDICOMSeries',
  SearchDICOMInstances: 'SearchDICOMInstances',
  SearchDICOMStudyInstances: 'SearchDICOMInstances',
  SearchDICOMAllInstances: 'SearchDICOMInstances',
  GetDICOMInstance: 'GetDICOMInstance',
  GetDICOMInstanceMetadata: 'GetDICOMInstanceMetadata',
  GetDICOMSeriesMetadata: 'GetDICOMSeriesMetadata',
  GetDICOMInstanceFrames: 'GetDICOMInstanceFrames',
  GetDICOMBulkdata: 'GetDICOMBulkdata',
};

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The route of `method path`, or undefined for anything HealthImaging does not offer. */
export function routeDicomweb(method: string, path: string): DicomwebRoute | undefined {
  const s = path.split('/').filter((p) => p !== '').map(decoded);
  if (s[0] !== 'datastore' || s.length < 3) return undefined;
  const datastoreId = s[1];
  const r = s.slice(2);
  const at = (operation: DicomwebOperation, parts: Partial<DicomwebRoute> = {}): DicomwebRoute => ({ operation, datastoreId, ...parts });
  if (method === 'POST') {
    if (r.length === 1 && r[0] === 'studies') return at('StoreDICOM');
    if (r.length === 2 && r[0] === 'studies') return at('StoreDICOMStudy', { study: r[1] });
    return undefined;
  }
  if (method !== 'GET') return undefined;
  if (r.length === 1 && r[0] === 'studies') return at('SearchDICOMStudies');
  if (r.length === 1 && r[0] === 'series') return at('SearchDICOMAllSeries');
  if (r.length === 1 && r[0] === 'instances') return at('SearchDICOMAllInstances');
  if (r[0] !== 'studies') return undefined;
  const study = r[1];
  if (r.length === 3 && r[2] === 'series') return at('SearchDICOMSeries', { study });
  if (r.length === 3 && r[2] === 'instances') return at('SearchDICOMStudyInstances', { study });
  if (r[2] !== 'series' || r.length < 5) return undefined;
  const series = r[3];
  if (r.length === 5 && r[4] === 'instances') return at('SearchDICOMInstances', { study, series });
  if (r.length === 5 && r[4] === 'metadata') return at('GetDICOMSeriesMetadata', { study, series });
  if (r[4] !== 'instances' || r.length < 6) return undefined;
  const instance = r[5];
  if (r.length === 6) return at('GetDICOMInstance', { study, series, instance });
  if (r.length === 7 && r[6] === 'metadata') return at('GetDICOMInstanceMetadata', { study, series, instance });
  if (r.length === 8 && r[6] === 'frames') return at('GetDICOMInstanceFrames', { study, series, instance, tail: r[7] });
  if (r.length === 8 && r[6] === 'bulkdata') return at('GetDICOMBulkdata', { study, series, instance, tail: r[7] });
  return undefined;
}
