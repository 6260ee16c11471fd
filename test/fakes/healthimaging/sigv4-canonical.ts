/**
 * The pieces of AWS Signature Version 4 a server recomputes, written from the AWS documentation
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html), not from an SDK:
 * canonical URI, canonical query string, canonical headers, string to sign, signing key.
 *
 * Canonical URI: S3 uses the path URI-encoded once; every other service (medical-imaging
 * included) normalizes the path and encodes each segment twice, i.e. once more than the path as
 * it travels on the wire.
 */
import { createHash, createHmac } from 'node:crypto';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const EMPTY_SHA256 = createHash('sha256').update('').digest('hex');

/** RFC 3986 encoding as AWS wants it: everything but A-Z a-z 0-9 - _ . ~ as %XX (upper case). */
export function awsUriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export function canonicalUri(wirePath: string, service: string): string {
  if (service === 's3') {
    return wirePath
      .split('/')
      .map((segment) => awsUriEncode(safeDecode(segment)))
      .join('/');
  }
  const segments: string[] = [];
  for (const segment of wirePath.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const normalized = `/${segments.join('/')}${segments.length > 0 && wirePath.endsWith('/') ? '/' : ''}`;
  return awsUriEncode(normalized).replace(/%2F/g, '/');
}

/** Pairs decoded from the wire query, re-encoded, sorted by name then value; X-Amz-Signature left out. */
export function canonicalQuery(rawQuery: string): string {
  const pairs: [string, string][] = [];
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = awsUriEncode(safeDecode(eq < 0 ? part : part.slice(0, eq)));
    const value = awsUriEncode(safeDecode(eq < 0 ? '' : part.slice(eq + 1)));
    if (name === 'X-Amz-Signature') continue;
    pairs.push([name, value]);
  }
  pairs.sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([n, v]) => `${n}=${v}`).join('&');
}

/** Values trimmed with inner runs of spaces collapsed, one `name:value` line per signed header. */
export function canonicalHeaders(headers: Record<string, string | string[] | undefined>, signedHeaders: string[]): string {
  return signedHeaders
    .map((name) => {
      const raw = headers[name];
      const value = Array.isArray(raw) ? raw.join(',') : raw ?? '';
      return `${name}:${value.replace(/[\r\n]/g, ' ').replace(/[ \t]+/g, ' ').trim()}\n`;
    })
    .join('');
}

export interface CanonicalRequestParts {
  method: string;
  wirePath: string;
  rawQuery: string;
  headers: Record<string, string | string[] | undefined>;
  signedHeaders: string[];
  payloadHash: string;
  service: string;
}

export function canonicalRequest(parts: CanonicalRequestParts): string {
  return [
    parts.method,
    canonicalUri(parts.wirePath, parts.service),
    canonicalQuery(parts.rawQuery),
    canonicalHeaders(parts.headers, parts.signedHeaders),
    parts.signedHeaders.join(';'),
    parts.payloadHash,
  ].join('\n');
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function stringToSign(amzDate: string, scope: string, canonical: string): string {
  return [ALGORITHM, amzDate, scope, sha256Hex(canonical)].join('\n');
}

export function signingKey(secretAccessKey: string, date: string, region: string, service: string): Buffer {
  const kDate = createHmac('sha256', `AWS4${secretAccessKey}`).update(date).digest();
  const kRegion = createHmac('sha256', kDate).update(region).digest();
  const kService = createHmac('sha256', kRegion).update(service).digest();
  return createHmac('sha256', kService).update('aws4_request').digest();
}

export function hmacHex(key: Buffer, text: string): string {
  return createHmac('sha256', key).update(text).digest('hex');
}
