/**
 * Configuration of who may call the gateway and how it runs: authentication and scopes, CORS,
 * request rates, the audit trail, TLS, shutdown, log format and readiness thresholds (README,
 * "Security and operations"). Read by load-security.ts.
 */

export interface JwtAuthConfig {
  /** Expected `iss`. */
  issuer: string;
  /** Accepted `aud` values (any one). */
  audiences: string[];
  /** The IdP's JSON Web Key Set; keys are fetched again when a token names an unknown `kid`. */
  jwksUrl: string;
  /** Allowed signature algorithms (asymmetric only; `none` and HMAC are never accepted). */
  algorithms: string[];
  /** Tolerance on exp, nbf and iat. */
  clockToleranceSeconds: number;
  /** Claims holding the granted scopes: a space-separated string (`scope`) or a list (`scp`). */
  scopeClaims: string[];
  /** Claim naming the caller in logs and the audit trail. */
  identityClaim: string;
  /** The key set is fetched again for an unknown `kid` at most this often (a token naming random
   *  key ids must not make the gateway hammer the identity provider). */
  keySetCooldownSeconds: number;
}

export interface AuthConfig {
  /** `required`: every request but health, metrics and docs needs a credential. `off`: none is
   *  checked (every caller may do everything), allowed only while listening on loopback. */
  mode: 'required' | 'off';
  jwt?: JwtAuthConfig;
  /** API keys (for edge devices), created and revoked through /api/keys or the CLI. */
  apiKeys: boolean;
  /** Scopes are `<prefix>read`, `<prefix>write`, `<prefix>admin`, and `<prefix>read:<store>`,
   *  `<prefix>write:<store>` for one store. */
  scopePrefix: string;
  /** /metrics without a credential (for a Prometheus scraper inside the network). */
  publicMetrics: boolean;
}

export interface CorsConfig {
  /** Origins allowed to call from a browser ("*" for any); empty: no CORS headers. */
  origins: string[];
  maxAgeSeconds: number;
  /** Allow cookies and Authorization headers from those origins (never with "*"). */
  credentials: boolean;
}

export interface RateLimitConfig {
  /** Requests per minute per client (authenticated name, else address); 0: no limit. */
  requestsPerMinute: number;
  /** Requests allowed at once above the steady rate. */
  burst: number;
  /** STOW requests in progress at once per client; 0: no limit. */
  concurrentUploads: number;
}

export interface AuditConfig {
  /** Also append each record as one JSON line to this file. */
  jsonLinesFile?: string;
}

export interface ServerConfig {
  /** Serve HTTPS with these PEM files. */
  tls?: { certFile: string; keyFile: string };
  /** On SIGTERM, how long in-flight requests and jobs may take to finish. */
  shutdownTimeoutMs: number;
  logFormat: 'json' | 'text';
  /** Not ready below this much free space in the data folder. */
  minFreeDiskBytes: number;
  slowClients: SlowClientLimits;
}

/** What cuts a client that sends too slowly (slow-loris): http/slow-clients.ts. */
export interface SlowClientLimits {
  /** The request line and headers must arrive within this. */
  headersTimeoutMs: number;
  /** A connection on which nothing arrives for this long is closed (also between requests). */
  idleTimeoutMs: number;
  /** A request body slower than this on average over `bodyRateWindowMs` is cut (0: never). */
  minBodyBytesPerSecond: number;
  bodyRateWindowMs: number;
}

export interface SecurityConfig {
  auth: AuthConfig;
  cors: CorsConfig;
  rateLimits: RateLimitConfig;
  audit: AuditConfig;
  server: ServerConfig;
}

export const DEFAULT_JWT_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'];
/** Asymmetric JWS algorithms of RFC 7518 / 8037: the only ones a JWKS of public keys can verify. */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
