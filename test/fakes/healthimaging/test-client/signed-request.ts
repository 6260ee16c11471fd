/**
 * Test-side client of the HealthImaging fake: requests signed by AWS's own signer
 * (@smithy/signature-v4 with @aws-crypto/sha256-js), so that tests show the fake accepts what
 * AWS's code produces and refuses tampered variants. Not part of the fake (which must not use the
 * AWS SDK); kept beside it for the fake's tests and for the adapter's.
 */
import { createHash } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { HttpAnswer, send } from '../../../helpers/http-client';
import { AwsTestCredentials } from '../aws-identity';

export interface SignedRequestSpec {
  method?: string;
  /** Path and raw (already percent-encoded) query, e.g. `/datastore/x/studies?PatientID=A%5E1`. */
  path: string;
  headers?: Record<string, string>;
  body?: Buffer;
  credentials: AwsTestCredentials;
  region: string;
  service: string;
  signingDate?: Date;
  /** Sign with this x-amz-content-sha256 (UNSIGNED-PAYLOAD, STREAMING-...) instead of the body's hash. */
  payloadHash?: string;
  /** Leave x-amz-content-sha256 out, so the server must hash the body itself. */
  omitPayloadHeader?: boolean;
}

export interface SignedRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** The Authorization header's signature (the seed of chunk signatures). */
  signature: string;
  signer: SignatureV4;
}

function parseQuery(raw: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const part of raw.split('&').filter(Boolean)) {
    const eq = part.indexOf('=');
    const name = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
    const value = decodeURIComponent(eq < 0 ? '' : part.slice(eq + 1));
    const existing = query[name];
    query[name] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return query;
}

export async function signRequest(endpoint: string, spec: SignedRequestSpec): Promise<SignedRequest> {
  const url = new URL(spec.path, endpoint);
  const [path, rawQuery = ''] = spec.path.split('?');
  const method = spec.method ?? 'GET';
  const headers: Record<string, string> = { host: url.host, ...(spec.headers ?? {}) };
  if (spec.body) headers['content-length'] = String(spec.body.length);
  if (spec.payloadHash) headers['x-amz-content-sha256'] = spec.payloadHash;
  const signer = new SignatureV4({
    credentials: spec.credentials,
    region: spec.region,
    service: spec.service,
    sha256: Sha256,
    uriEscapePath: spec.service !== 's3',
    applyChecksum: !spec.omitPayloadHeader,
  });
  const signed = await signer.sign(
    { method, protocol: 'http:', hostname: url.hostname, port: Number(url.port), path, query: parseQuery(rawQuery), headers, body: spec.payloadHash ? undefined : spec.body },
    { signingDate: spec.signingDate ?? new Date() },
  );
  const signedHeaders = signed.headers as Record<string, string>;
  const signature = /Signature=([0-9a-f]+)/.exec(signedHeaders.authorization ?? '')?.[1] ?? '';
  return { url: url.toString(), method, headers: { ...signedHeaders }, body: spec.body, signature, signer };
}

/** Sends a signed request as it was signed (or as a test has changed it since). */
export function sendSigned(request: SignedRequest): Promise<HttpAnswer> {
  const headers = { ...request.headers };
  delete headers.host; // node:http writes the same Host itself
  return send(request.url, { method: request.method, headers, body: request.body });
}

export async function signedFetch(endpoint: string, spec: SignedRequestSpec): Promise<HttpAnswer> {
  return sendSigned(await signRequest(endpoint, spec));
}

/**
 * An aws-chunked body (STREAMING-AWS4-HMAC-SHA256-PAYLOAD) for `request`, each chunk signature
 * computed with the SDK's signer over AWS's chunk string-to-sign.
 */
export async function awsChunkedBody(request: SignedRequest, payload: Buffer, chunkSize: number, signingDate: Date, scope: string): Promise<Buffer> {
  const amzDate = request.headers['x-amz-date'];
  const hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const parts: Buffer[] = [];
  let previous = request.signature;
  for (let offset = 0; ; offset += chunkSize) {
    const chunk = payload.subarray(offset, Math.min(offset + chunkSize, payload.length));
    const toSign = ['AWS4-HMAC-SHA256-PAYLOAD', amzDate, scope, previous, hex(Buffer.alloc(0)), hex(chunk)].join('\n');
    previous = await request.signer.sign(toSign, { signingDate });
    parts.push(Buffer.from(`${chunk.length.toString(16)};chunk-signature=${previous}\r\n`), chunk, Buffer.from('\r\n'));
    if (chunk.length === 0) break;
  }
  return Buffer.concat(parts);
}
