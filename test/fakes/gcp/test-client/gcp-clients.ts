/**
 * Short-hands for tests of the Google Cloud Healthcare fake: the real google-auth-library JWT
 * client with a Gaxios transporter whose request interceptor sends gtoken's hard-coded
 * https://oauth2.googleapis.com/token to the fake's token URL; hand-signed assertions for the
 * refusals; and DICOMweb requests with a bearer token.
 */
import { createSign } from 'node:crypto';
import { Gaxios } from 'gaxios';
import { JWT } from 'google-auth-library';
import { HttpAnswer, send } from '../../../helpers/http-client';
import { multipartBody } from '../../../helpers/multipart-body';
import type { GcpFake, ServiceAccountKey } from '../index';

export const SCOPES = {
  healthcare: 'https://www.googleapis.com/auth/cloud-healthcare',
  platform: 'https://www.googleapis.com/auth/cloud-platform',
  storage: 'https://www.googleapis.com/auth/devstorage.read_only',
};
export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';

export type DicomJson = Record<string, { vr: string; Value?: unknown[]; BulkDataURI?: string; InlineBinary?: string }>;

/** A transporter for google-auth-library that reaches the fake's token endpoint instead of Google's. */
export function redirectingTransporter(tokenUrl: string): Gaxios {
  const transporter = new Gaxios();
  transporter.interceptors.request.add({
    resolved: async (options) => {
      if (options.url.href === GOOGLE_TOKEN_URL) options.url = new URL(tokenUrl);
      return options;
    },
  });
  return transporter;
}

export function jwtClient(fake: GcpFake, key: ServiceAccountKey, scopes: string[] = [SCOPES.healthcare]): JWT {
  return new JWT({ email: key.client_email, key: key.private_key, keyId: key.private_key_id, scopes, transporter: redirectingTransporter(fake.tokenUrl) });
}

/** An access token for the key, through the real JWT-bearer flow. */
export async function accessToken(fake: GcpFake, key: ServiceAccountKey, scopes?: string[]): Promise<string> {
  const { token } = await jwtClient(fake, key, scopes).getAccessToken();
  if (!token) throw new Error('no access token');
  return token;
}

/** A JWT signed with RS256 by `privateKeyPem` (or with no signature at all for alg "none"). */
export function signAssertion(privateKeyPem: string, claims: Record<string, unknown>, header: Record<string, unknown> = { alg: 'RS256' }): string {
  const encode = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const signed = `${encode(header)}.${encode(claims)}`;
  if (header.alg !== 'RS256') return `${signed}.`;
  return `${signed}.${createSign('RSA-SHA256').update(signed).sign(privateKeyPem).toString('base64url')}`;
}

/** The claims gtoken sends (jwsSign.js), for a key and scopes, that a test then spoils. */
export function gtokenClaims(key: ServiceAccountKey, scope: string = SCOPES.healthcare): Record<string, unknown> {
  const iat = Math.floor(Date.now() / 1000);
  return { iss: key.client_email, scope, aud: GOOGLE_TOKEN_URL, exp: iat + 3600, iat };
}

export function postToken(fake: GcpFake, form: Record<string, string>): Promise<HttpAnswer> {
  const body = Buffer.from(new URLSearchParams(form).toString());
  return send(fake.tokenUrl, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
}

export function postAssertion(fake: GcpFake, assertion: string): Promise<HttpAnswer> {
  return postToken(fake, { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion });
}

export interface GcpClient {
  token: string;
  /** GET a path below the DICOMweb root (e.g. `/studies?PatientID=X`). */
  get(path: string, headers?: Record<string, string>): Promise<HttpAnswer>;
  /** STOW files as one application/dicom body or a multipart/related one; JSON answer unless headers say otherwise. */
  stow(files: Buffer[], options?: { study?: string; single?: boolean; headers?: Record<string, string> }): Promise<HttpAnswer>;
}

export function gcpClient(fake: GcpFake, token: string): GcpClient {
  const auth = { authorization: `Bearer ${token}` };
  return {
    token,
    get: (path, headers = {}) => send(`${fake.dicomWebRoot}${path}`, { headers: { ...auth, ...headers } }),
    stow(files, options = {}) {
      const single = options.single ?? files.length === 1;
      const { body, contentType } = single ? { body: files[0], contentType: 'application/dicom' } : multipartBody(files);
      const url = `${fake.dicomWebRoot}/studies${options.study ? `/${options.study}` : ''}`;
      return send(url, { method: 'POST', body, headers: { ...auth, 'content-type': contentType, accept: 'application/dicom+json', ...(options.headers ?? {}) } });
    },
  };
}

/** A client with a fresh allowed key and a cloud-healthcare token. */
export async function allowedClient(fake: GcpFake): Promise<GcpClient> {
  return gcpClient(fake, await accessToken(fake, fake.createServiceAccountKey()));
}

/** Referenced SOP Sequence UIDs and RetrieveURLs, Failed SOP Sequence UIDs and reasons of a JSON STOW answer. */
export function stowSummary(answer: HttpAnswer): { stored: string[]; retrieveUrls: string[]; failed: { sop?: string; reason: number; detail?: string }[]; studyUrl?: string } {
  const body = answer.json<DicomJson>();
  const items = (tag: string) => (body[tag]?.Value ?? []) as DicomJson[];
  return {
    studyUrl: body['00081190']?.Value?.[0] as string | undefined,
    stored: items('00081199').map((i) => String(i['00081155']?.Value?.[0])),
    retrieveUrls: items('00081199').map((i) => String(i['00081190']?.Value?.[0])),
    failed: items('00081198').map((i) => ({ sop: i['00081155']?.Value?.[0] as string | undefined, reason: Number(i['00081197']?.Value?.[0]), detail: i['00090097']?.Value?.[0] as string | undefined })),
  };
}

export function googleError(answer: HttpAnswer): { code: number; message: string; status: string } {
  return answer.json<{ error: { code: number; message: string; status: string } }>().error;
}
