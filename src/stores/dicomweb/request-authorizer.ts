/**
 * How an UpstreamClient authenticates each request it sends. A header credential (Basic, a bearer
 * token, OAuth2 client credentials, a Google access token) only adds an Authorization header; a
 * request signer (AWS SigV4) needs the method, the path with its query, the headers and the body's
 * hash. Both fit this one interface, so the client's pool, time limits, retries and circuit
 * breaker serve every kind of remote store.
 */
import { createUpstreamAuth, UpstreamAuthConfig } from './upstream-auth';

export interface RequestToAuthorize {
  method: string;
  /** The upstream's origin, e.g. https://dicom-medical-imaging.us-east-1.amazonaws.com */
  origin: string;
  /** The path on that origin with its query, already encoded. */
  path: string;
  /** The request's headers (lower-case names) without credentials. */
  headers: Record<string, string>;
  /** Lower-case hex SHA-256 of the body; undefined: no body (GET) or not known. */
  payloadSha256?: string;
  /** The request has a body. */
  hasBody: boolean;
}

export interface RequestAuthorizer {
  /** Headers to add to the request (Authorization and whatever else the scheme needs). Throws
   *  TokenRequestFailed when no credential can be had. */
  authorize(request: RequestToAuthorize): Promise<Record<string, string>>;
  /** Forget cached credentials after a 401 or 403, so that the next call fetches new ones; absent
   *  when the credentials cannot change (a static password), so no second try is made. */
  invalidate?(): void;
  /** A 403 may also mean an expired token (some OAuth2 servers answer so): try a fresh one then
   *  too. Google's 403 is a missing permission, which a new token does not change. */
  readonly refreshOnForbidden?: boolean;
  /** Whether the body's SHA-256 must be known before sending (a signature covers it). */
  readonly needsPayloadHash?: boolean;
}

/** The configured header credentials of a `dicomweb` store as a RequestAuthorizer. */
export function headerAuthorizer(config: UpstreamAuthConfig): RequestAuthorizer {
  const auth = createUpstreamAuth(config);
  return {
    async authorize(): Promise<Record<string, string>> {
      const authorization = await auth.header();
      return authorization ? { authorization } : {};
    },
    invalidate: config.type === 'oauth2' ? () => auth.invalidate() : undefined,
    refreshOnForbidden: config.type === 'oauth2',
  };
}
