/**
 * Verifies AWS Signature Version 4 on a request as AWS does, in AWS's order: an Authorization
 * header (or, for presigned URLs, the X-Amz-* query parameters), a known access key and its session
 * token, the credential scope (region, service, date), the clock skew, that host, x-amz-date and
 * every x-amz-* header are signed, then the signature itself. Failures are typed so that each host
 * can answer in its own protocol (rest-json or S3 XML).
 *
 * The payload hash in the canonical request is whatever x-amz-content-sha256 says (a hex hash,
 * UNSIGNED-PAYLOAD, or a STREAMING-* marker of an aws-chunked body); without that header the
 * signature can only be checked once the body has been read and hashed (`checkSignature`).
 */
import { IncomingMessage } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { AwsIdentity } from './aws-identity';
import { canonicalRequest, signingKey, stringToSign, hmacHex } from './sigv4-canonical';

export type AuthFailureKind =
  | 'missing'
  | 'malformed'
  | 'unknownKey'
  | 'missingToken'
  | 'badToken'
  | 'wrongRegion'
  | 'wrongService'
  | 'scopeDate'
  | 'expired'
  | 'notYetValid'
  | 'unsignedHeader'
  | 'signatureMismatch'
  | 'payloadMismatch';

export class AuthFailure extends Error {
  constructor(
    readonly kind: AuthFailureKind,
    message: string,
    readonly canonical?: { canonicalRequest: string; stringToSign: string },
  ) {
    super(message);
  }
}

export type PayloadMode = 'hex' | 'unsigned' | 'streaming-signed' | 'streaming-unsigned-trailer' | 'deferred';

export interface VerifiedRequest {
  identity: AwsIdentity;
  amzDate: string;
  scope: string;
  signingKey: Buffer;
  /** The request's signature: the seed of an aws-chunked body's chunk signatures. */
  signature: string;
  payload: PayloadMode;
  /** The hex hash the client declared (payload 'hex'). */
  declaredSha256?: string;
  /** For 'deferred': recomputes the signature over the body's hash. */
  checkSignature(bodySha256: string): void;
}

export interface VerifierConfig {
  region: string;
  service: 'medical-imaging' | 's3';
  identities: AwsIdentity[];
  clockSkewMs: number;
  now?: () => number;
}

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

function parseAmzDate(text: string): number | undefined {
  const m = AMZ_DATE.exec(text);
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : undefined;
}

export function formatAmzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

interface AuthorizationParts {
  accessKeyId: string;
  scopeParts: string[];
  signedHeaders: string[];
  signature: string;
  amzDate: string | undefined;
  token: string | undefined;
  expiresSeconds?: number;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function fromAuthorizationHeader(req: IncomingMessage, authorization: string): AuthorizationParts {
  if (!authorization.startsWith('AWS4-HMAC-SHA256 ')) throw new AuthFailure('malformed', `Authorization header requires the AWS4-HMAC-SHA256 algorithm, not "${authorization.split(' ')[0]}".`);
  const fields = new Map<string, string>();
  for (const part of authorization.slice('AWS4-HMAC-SHA256 '.length).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  for (const required of ['Credential', 'SignedHeaders', 'Signature']) {
    if (!fields.get(required)) throw new AuthFailure('malformed', `Authorization header requires '${required}' parameter. Authorization=${authorization}`);
  }
  const [accessKeyId, ...scopeParts] = fields.get('Credential')!.split('/');
  return {
    accessKeyId,
    scopeParts,
    signedHeaders: fields.get('SignedHeaders')!.split(';'),
    signature: fields.get('Signature')!,
    amzDate: header(req, 'x-amz-date'),
    token: header(req, 'x-amz-security-token'),
  };
}

function fromQuery(query: URLSearchParams): AuthorizationParts {
  if (query.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') throw new AuthFailure('malformed', 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
  for (const required of ['X-Amz-Credential', 'X-Amz-SignedHeaders', 'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-Expires']) {
    if (!query.get(required)) throw new AuthFailure('malformed', `Query-string authentication requires the ${required} parameter`);
  }
  const [accessKeyId, ...scopeParts] = query.get('X-Amz-Credential')!.split('/');
  return {
    accessKeyId,
    scopeParts,
    signedHeaders: query.get('X-Amz-SignedHeaders')!.split(';'),
    signature: query.get('X-Amz-Signature')!,
    amzDate: query.get('X-Amz-Date') ?? undefined,
    token: query.get('X-Amz-Security-Token') ?? undefined,
    expiresSeconds: Number(query.get('X-Amz-Expires')),
  };
}

export class SigV4Verifier {
  constructor(private readonly config: VerifierConfig) {}

  verify(req: IncomingMessage): VerifiedRequest {
    const { region, service } = this.config;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const wirePath = q < 0 ? url : url.slice(0, q);
    const rawQuery = q < 0 ? '' : url.slice(q + 1);
    const query = new URLSearchParams(rawQuery);
    const authorization = header(req, 'authorization');
    const presigned = authorization === undefined && query.has('X-Amz-Algorithm');
    if (authorization === undefined && !presigned) throw new AuthFailure('missing', 'Missing Authentication Token');
    const parts = presigned ? fromQuery(query) : fromAuthorizationHeader(req, authorization!);

    if (parts.amzDate === undefined) throw new AuthFailure('malformed', "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
    const signedAt = parseAmzDate(parts.amzDate);
    if (signedAt === undefined) throw new AuthFailure('malformed', `X-Amz-Date "${parts.amzDate}" is not of the form YYYYMMDD'T'HHMMSS'Z'.`);

    const identity = this.config.identities.find((i) => i.credentials.accessKeyId === parts.accessKeyId);
    if (!identity) throw new AuthFailure('unknownKey', 'The security token included in the request is invalid.');
    const expectedToken = identity.credentials.sessionToken;
    if (expectedToken !== undefined && parts.token === undefined) throw new AuthFailure('missingToken', 'The security token included in the request is invalid.');
    if (parts.token !== undefined && parts.token !== expectedToken) throw new AuthFailure('badToken', 'The security token included in the request is invalid.');

    const [scopeDate, scopeRegion, scopeService, terminal] = parts.scopeParts;
    if (parts.scopeParts.length !== 4 || terminal !== 'aws4_request') {
      throw new AuthFailure('malformed', `Credential should be scoped with a valid terminator: 'aws4_request', not '${terminal}'.`);
    }
    if (scopeRegion !== region) throw new AuthFailure('wrongRegion', 'Credential should be scoped to a valid region.');
    if (scopeService !== service) throw new AuthFailure('wrongService', `Credential should be scoped to correct service: '${service}'.`);
    if (scopeDate !== parts.amzDate.slice(0, 8)) {
      throw new AuthFailure('scopeDate', `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${parts.amzDate.slice(0, 8)}', from '${parts.amzDate}'.`);
    }

    const now = (this.config.now ?? Date.now)();
    const skew = this.config.clockSkewMs;
    const minutes = `${Math.round(skew / 60000)} min.`;
    if (presigned) {
      if (now > signedAt + (parts.expiresSeconds ?? 0) * 1000) throw new AuthFailure('expired', 'Request has expired');
    } else if (signedAt < now - skew) {
      throw new AuthFailure('expired', `Signature expired: ${parts.amzDate} is now earlier than ${formatAmzDate(now - skew)} (${formatAmzDate(now)} - ${minutes})`);
    }
    if (signedAt > now + skew) {
      throw new AuthFailure('notYetValid', `Signature not yet current: ${parts.amzDate} is still later than ${formatAmzDate(now + skew)} (${formatAmzDate(now)} + ${minutes})`);
    }

    const signed = new Set(parts.signedHeaders);
    const mustSign = ['host', ...(presigned ? [] : ['x-amz-date']), ...Object.keys(req.headers).filter((h) => h.startsWith('x-amz-'))];
    const unsigned = mustSign.filter((h) => !signed.has(h));
    if (unsigned.length > 0) throw new AuthFailure('unsignedHeader', `There were headers present in the request which were not signed: ${unsigned.join(', ')}`);

    // Presigned URLs carry no body hash; AWS's presigners name UNSIGNED-PAYLOAD in the query.
    const declared = presigned ? query.get('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD' : header(req, 'x-amz-content-sha256');
    const payload = payloadMode(declared, service);
    const key = signingKey(identity.credentials.secretAccessKey, scopeDate, region, service);
    const scope = parts.scopeParts.join('/');
    const checkSignature = (payloadHash: string) => {
      const canonical = canonicalRequest({ method: req.method ?? 'GET', wirePath, rawQuery, headers: req.headersDistinct, signedHeaders: parts.signedHeaders, payloadHash, service });
      const toSign = stringToSign(parts.amzDate!, scope, canonical);
      const expected = Buffer.from(hmacHex(key, toSign));
      const given = Buffer.from(parts.signature);
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
        throw new AuthFailure(
          'signatureMismatch',
          'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
          { canonicalRequest: canonical, stringToSign: toSign },
        );
      }
    };
    if (payload !== 'deferred') checkSignature(declared!);
    return {
      identity,
      amzDate: parts.amzDate,
      scope,
      signingKey: key,
      signature: parts.signature,
      payload,
      declaredSha256: payload === 'hex' ? declared : undefined,
      checkSignature,
    };
  }
}

function payloadMode(declared: string | undefined, service: string): PayloadMode {
  if (declared === undefined) {
    if (service === 's3') throw new AuthFailure('malformed', 'Missing required header for this request: x-amz-content-sha256');
    return 'deferred';
  }
  if (/^[0-9a-f]{64}$/.test(declared)) return 'hex';
  if (declared === 'UNSIGNED-PAYLOAD') return 'unsigned';
  if (declared === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD') return 'streaming-signed';
  if (declared === 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' && service === 's3') return 'streaming-unsigned-trailer';
  throw new AuthFailure('malformed', `x-amz-content-sha256 "${declared}" is not a supported payload hash`);
}
