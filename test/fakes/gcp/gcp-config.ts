/**
 * The settled options of the Google Cloud Healthcare fake and the names derived from them: the
 * DICOM store's resource name (`projects/{p}/locations/{l}/datasets/{d}/dicomStores/{s}`), the
 * DICOMweb root every absolute URL of an answer is built on, and the IAM resource that a
 * permission-denied message names.
 */
export interface GcpFakeConfig {
  project: string;
  location: string;
  dataset: string;
  dicomStore: string;
  tokenLifetimeSeconds: number;
  clockSkewSeconds: number;
  maxStowBytes: number;
  /** Temp files of request bodies. */
  scratchDir: string;
  /** Set once the DICOMweb server listens: `http://127.0.0.1:P`, standing for https://healthcare.googleapis.com. */
  origin: string;
}

export function storeName(c: Pick<GcpFakeConfig, 'project' | 'location' | 'dataset' | 'dicomStore'>): string {
  return `projects/${c.project}/locations/${c.location}/datasets/${c.dataset}/dicomStores/${c.dicomStore}`;
}

/** `${origin}/v1/projects/.../dicomStores/{s}/dicomWeb`, without a trailing slash. */
export function dicomWebRoot(c: GcpFakeConfig): string {
  return `${c.origin}/v1/${storeName(c)}/dicomWeb`;
}

export function studyUrl(c: GcpFakeConfig, study: string): string {
  return `${dicomWebRoot(c)}/studies/${study}`;
}

export function seriesUrl(c: GcpFakeConfig, study: string, series: string): string {
  return `${studyUrl(c, study)}/series/${series}`;
}

export function instanceUrl(c: GcpFakeConfig, study: string, series: string, sop: string): string {
  return `${seriesUrl(c, study, series)}/instances/${sop}`;
}

/** The full resource name IAM messages use: `//healthcare.googleapis.com/projects/...`. */
export function iamResource(name: string): string {
  return `//healthcare.googleapis.com/${name}`;
}
