/**
 * AWS Signature Version 4 for the HealthImaging hosts (RequestAuthorizer), with the SDK's own
 * signer (@smithy/signature-v4) and service name `medical-imaging` on all of them, the DICOMweb
 * host included (every AWS example signs it "aws:amz:{region}:medical-imaging"). The body is
 * signed by its SHA-256 (x-amz-content-sha256), which the caller computes for STOW requests; a
 * session token travels in x-amz-security-token, signed. Credentials come from awsCredentials().
 */
import { createHash, createHmac, Hash, Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { TokenRequestFailed } from '../dicomweb/upstream-auth';
import { RequestAuthorizer, RequestToAuthorize } from '../dicomweb/request-authorizer';
import { AwsCredentialIdentityProvider } from './aws-credentials';

export const HEALTHIMAGING_SIGNING_NAME = 'medical-imaging';
const EMPTY_SHA256 = createHash('sha256').digest('hex');

/** SHA-256 and HMAC-SHA256 for the signer, from node:crypto (the SDK's own choice in Node). */
class NodeSha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: string | Uint8Array | ArrayBuffer | ArrayBufferView) {
    this.hash = this.fresh();
  }
  update(data: string | Uint8Array | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(bytesOf(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(this.secret));
  }
}

function bytesOf(data: string | Uint8Array | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

export class SigV4Authorizer implements RequestAuthorizer {
  readonly needsPayloadHash = true;
  private readonly signer: SignatureV4;

  constructor(
    region: string,
    credentials: AwsCredentialIdentityProvider,
    service = HEALTHIMAGING_SIGNING_NAME,
  ) {
    this.signer = new SignatureV4({ service, region, credentials, sha256: NodeSha256, uriEscapePath: true, applyChecksum: false });
  }

  async authorize(request: RequestToAuthorize): Promise<Record<string, string>> {
    const url = new URL(request.path, request.origin);
    const payload = request.payloadSha256 ?? (request.hasBody ? 'UNSIGNED-PAYLOAD' : EMPTY_SHA256);
    // Only what the request really carries is signed: the host, the x-amz-* headers, and the
    // content type; hop-by-hop and length headers may be rewritten on the way.
    const headers: Record<string, string> = { host: url.host, 'x-amz-content-sha256': payload };
    for (const [name, value] of Object.entries(request.headers)) {
      const lower = name.toLowerCase();
      if (lower === 'content-type' || lower === 'accept') headers[lower] = value;
    }
    let signed;
    try {
      signed = await this.signer.sign({
        method: request.method,
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port ? Number(url.port) : undefined,
        // As sent on the wire: the signer encodes it once more, as SigV4 asks of non-S3 services.
        path: url.pathname,
        query: queryOf(url),
        headers,
      });
    } catch (e) {
      // No credentials in the chain, or a provider that failed (expired SSO session, no role).
      throw new TokenRequestFailed(`no AWS credentials: ${(e as Error)?.message ?? String(e)}`);
    }
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(signed.headers)) if (name !== 'host') out[name] = String(value);
    return out;
  }
}

/** The query as the signer wants it: decoded names and values, repeated names as arrays. */
function queryOf(url: URL): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of url.searchParams) {
    const had = query[name];
    if (had === undefined) query[name] = value;
    else query[name] = Array.isArray(had) ? [...had, value] : [had, value];
  }
  return query;
}
