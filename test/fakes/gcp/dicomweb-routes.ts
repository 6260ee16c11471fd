/**
 * The DICOMweb methods of a Google Cloud Healthcare DICOM store (reference 2.1) and nothing
 * more: the route of a request under `/v1/projects/{p}/locations/{l}/datasets/{d}/dicomStores/{s}/dicomWeb/`,
 * its REST method name (as the API reference names them, without the
 * `projects.locations.datasets.` prefix) and the IAM permission it needs. Thumbnails, WADO-URI,
 * study- and series-level rendered and anything else are not routes (404), as Google does not offer them.
 */
export type DicomwebOperation =
  | 'dicomStores.storeInstances'
  | 'dicomStores.studies.storeInstances'
  | 'dicomStores.searchForStudies'
  | 'dicomStores.searchForSeries'
  | 'dicomStores.studies.searchForSeries'
  | 'dicomStores.searchForInstances'
  | 'dicomStores.studies.searchForInstances'
  | 'dicomStores.studies.series.searchForInstances'
  | 'dicomStores.studies.retrieveStudy'
  | 'dicomStores.studies.retrieveMetadata'
  | 'dicomStores.studies.series.retrieveSeries'
  | 'dicomStores.studies.series.retrieveMetadata'
  | 'dicomStores.studies.series.instances.retrieveInstance'
  | 'dicomStores.studies.series.instances.retrieveMetadata'
  | 'dicomStores.studies.series.instances.retrieveRendered'
  | 'dicomStores.studies.series.instances.frames.retrieveFrames'
  | 'dicomStores.studies.series.instances.frames.retrieveRendered'
  | 'dicomStores.studies.series.instances.bulkdata.retrieveBulkdata';

export interface StoreRef {
  project: string;
  location: string;
  dataset: string;
  dicomStore: string;
}

export interface DicomwebRoute {
  operation: DicomwebOperation;
  store: StoreRef;
  study?: string;
  series?: string;
  instance?: string;
  /** Frame list, or the bulk data tag path (`7FE00010`, `00540016/0/00181074`). */
  tail?: string;
}

export const PERMISSION = {
  read: 'healthcare.dicomStores.dicomWebRead',
  write: 'healthcare.dicomStores.dicomWebWrite',
} as const;

export function isStow(operation: DicomwebOperation): boolean {
  return operation === 'dicomStores.storeInstances' || operation === 'dicomStores.studies.storeInstances';
}

export function permissionOf(operation: DicomwebOperation): string {
  return isStow(operation) ? PERMISSION.write : PERMISSION.read;
}

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The store named by a path (whatever follows `dicomWeb`), or undefined if the path is not a DICOMweb path at all. */
export function storeOf(path: string): { store: StoreRef; rest: string[] } | undefined {
  const s = path.split('/').slice(1).map(decoded);
  if (s[0] !== 'v1' || s[1] !== 'projects' || s[3] !== 'locations' || s[5] !== 'datasets' || s[7] !== 'dicomStores' || s[9] !== 'dicomWeb') return undefined;
  if (![s[2], s[4], s[6], s[8]].every((p) => p !== undefined && p !== '')) return undefined;
  const rest = s.slice(10);
  if (rest.length > 0 && rest[rest.length - 1] === '') rest.pop(); // a trailing slash
  return { store: { project: s[2], location: s[4], dataset: s[6], dicomStore: s[8] }, rest };
}

/** The route of `method path`, or undefined for anything the DICOM store does not offer. */
export function routeDicomweb(method: string, path: string): DicomwebRoute | undefined {
  const found = storeOf(path);
  if (!found) return undefined;
  const { store, rest: r } = found;
  if (r.some((p) => p === '')) return undefined;
  const at = (operation: DicomwebOperation, parts: Partial<DicomwebRoute> = {}): DicomwebRoute => ({ operation, store, ...parts });
  if (method === 'POST') {
    if (r.length === 1 && r[0] === 'studies') return at('dicomStores.storeInstances');
    if (r.length === 2 && r[0] === 'studies') return at('dicomStores.studies.storeInstances', { study: r[1] });
    return undefined;
  }
  if (method !== 'GET' && method !== 'HEAD') return undefined;
  if (r.length === 1 && r[0] === 'studies') return at('dicomStores.searchForStudies');
  if (r.length === 1 && r[0] === 'series') return at('dicomStores.searchForSeries');
  if (r.length === 1 && r[0] === 'instances') return at('dicomStores.searchForInstances');
  if (r[0] !== 'studies' || r.length < 2) return undefined;
  const study = r[1];
  if (r.length === 2) return at('dicomStores.studies.retrieveStudy', { study });
  if (r.length === 3 && r[2] === 'metadata') return at('dicomStores.studies.retrieveMetadata', { study });
  if (r.length === 3 && r[2] === 'series') return at('dicomStores.studies.searchForSeries', { study });
  if (r.length === 3 && r[2] === 'instances') return at('dicomStores.studies.searchForInstances', { study });
  if (r[2] !== 'series' || r.length < 4) return undefined;
  const series = r[3];
  if (r.length === 4) return at('dicomStores.studies.series.retrieveSeries', { study, series });
  if (r.length === 5 && r[4] === 'metadata') return at('dicomStores.studies.series.retrieveMetadata', { study, series });
  if (r.length === 5 && r[4] === 'instances') return at('dicomStores.studies.series.searchForInstances', { study, series });
  if (r[4] !== 'instances' || r.length < 6) return undefined;
  const instance = r[5];
  const ids = { study, series, instance };
  if (r.length === 6) return at('dicomStores.studies.series.instances.retrieveInstance', ids);
  if (r.length === 7 && r[6] === 'metadata') return at('dicomStores.studies.series.instances.retrieveMetadata', ids);
  if (r.length === 7 && r[6] === 'rendered') return at('dicomStores.studies.series.instances.retrieveRendered', ids);
  if (r.length === 8 && r[6] === 'frames') return at('dicomStores.studies.series.instances.frames.retrieveFrames', { ...ids, tail: r[7] });
  if (r.length === 9 && r[6] === 'frames' && r[8] === 'rendered') return at('dicomStores.studies.series.instances.frames.retrieveRendered', { ...ids, tail: r[7] });
  if (r.length >= 8 && r[6] === 'bulkdata') return at('dicomStores.studies.series.instances.bulkdata.retrieveBulkdata', { ...ids, tail: r.slice(7).join('/') });
  return undefined;
}
