/**
 * Short-hands for tests of the HealthImaging fake: SigV4-signed DICOMweb, control-plane and S3
 * requests with the fake's allowed identity (or another), and DICOM JSON reading.
 */
import { HttpAnswer } from '../../../helpers/http-client';
import { multipartBody } from '../../../helpers/multipart-body';
import { AwsTestCredentials } from '../aws-identity';
import type { HealthImagingFake } from '../index';
import { SignedRequestSpec, signedFetch } from './signed-request';

export type DicomJson = Record<string, { vr: string; Value?: unknown[]; BulkDataURI?: string; InlineBinary?: string }>;

export interface FakeClient {
  /** GET a DICOMweb path below /datastore/{id} (e.g. `/studies?PatientID=X`). */
  get(path: string, headers?: Record<string, string>): Promise<HttpAnswer>;
  /** STOW one file as application/dicom, or several as multipart/related. */
  stow(files: Buffer[], options?: { study?: string; single?: boolean; headers?: Record<string, string> }): Promise<HttpAnswer>;
  /** Any signed request to one of the three hosts. */
  request(host: 'dicomweb' | 'control' | 's3', spec: Omit<SignedRequestSpec, 'credentials' | 'region' | 'service'> & { credentials?: AwsTestCredentials }): Promise<HttpAnswer>;
}

export function fakeClient(fake: HealthImagingFake, credentials: AwsTestCredentials = fake.credentials): FakeClient {
  const base = `/datastore/${fake.datastoreId}`;
  const endpoints = { dicomweb: fake.dicomwebEndpoint, control: fake.controlEndpoint, s3: fake.s3Endpoint };
  const request: FakeClient['request'] = (host, spec) =>
    signedFetch(endpoints[host], { credentials, region: fake.region, service: host === 's3' ? 's3' : 'medical-imaging', ...spec });
  return {
    request,
    get: (path, headers = {}) => request('dicomweb', { path: `${base}${path}`, headers }),
    stow(files, options = {}) {
      const path = `${base}/studies${options.study ? `/${options.study}` : ''}`;
      const single = options.single ?? files.length === 1;
      const { body, contentType } = single ? { body: files[0], contentType: 'application/dicom' } : multipartBody(files);
      return request('dicomweb', { method: 'POST', path, body, headers: { 'content-type': contentType, accept: 'application/dicom+json', ...(options.headers ?? {}) } });
    },
  };
}

/** The UIDs of the Referenced SOP Sequence (0008,1199) and the reasons of the Failed SOP Sequence (0008,1198). */
export function stowSummary(answer: HttpAnswer): { stored: string[]; failed: { sop?: string; reason: number }[]; retrieveUrls: string[] } {
  const body = answer.json<DicomJson>();
  const items = (tag: string) => (body[tag]?.Value ?? []) as DicomJson[];
  return {
    stored: items('00081199').map((i) => String(i['00081155']?.Value?.[0])),
    retrieveUrls: items('00081199').map((i) => String(i['00081190']?.Value?.[0])),
    failed: items('00081198').map((i) => ({ sop: i['00081155']?.Value?.[0] as string | undefined, reason: Number(i['00081197']?.Value?.[0]) })),
  };
}

export function firstValue(dataset: DicomJson, tag: string): unknown {
  return dataset[tag]?.Value?.[0];
}
