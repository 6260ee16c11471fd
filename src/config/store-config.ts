/**
 * The configuration of the named stores (YAML `stores`, see README "Stores"). Each store answers
 * at /stores/{name}/dicomweb; the default one also at /dicomweb. Secrets are resolved by the
 * config loader (from the file or from the environment variable it names) and never logged.
 */

/** Lower-case letters, digits and dashes: safe in a URL path segment and in a header. */
export const STORE_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Kinds the gateway knows; `healthimaging` and `gcp` are announced but not built yet. */
export const STORE_KINDS = ['local', 'dicomweb', 'healthimaging', 'gcp'] as const;

export interface LocalStoreConfig {
  name: string;
  kind: 'local';
  /** Folder of the index and the instance files (absolute). */
  path: string;
}

/** How the gateway authenticates to an upstream DICOMweb server. */
export type UpstreamAuthConfig =
  | { type: 'none' }
  | { type: 'basic'; username: string; password: string }
  | { type: 'bearer'; token: string }
  | {
      type: 'oauth2';
      tokenUrl: string;
      clientId: string;
      clientSecret: string;
      scope?: string;
      /** Azure AD v1 style resource/audience (e.g. the Azure DICOM service: https://dicom.healthcareapis.azure.com). */
      audience?: string;
    };

export interface UpstreamTimeouts {
  /** TCP (and TLS) connection set-up. */
  connectMs: number;
  /** From the request sent to the first byte of the answer's headers. */
  firstByteMs: number;
  /** Longest silence between two chunks of an answer's body. */
  idleMs: number;
}

export interface UpstreamRetries {
  /** Tries of an idempotent GET in all (1 = no retry). */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface CircuitBreakerConfig {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** How long calls are refused at once before one trial call. */
  openMs: number;
}

export interface DicomwebStoreConfig {
  name: string;
  kind: 'dicomweb';
  /** The upstream's DICOMweb root, e.g. http://orthanc:8042/dicom-web (no trailing slash). */
  url: string;
  auth: UpstreamAuthConfig;
  /** Percent-encode QIDO values (RFC 3986). false for upstreams that do not decode them (Orthanc):
   *  values are then sent raw, and what cannot be sent raw is matched at the gateway. */
  percentEncodeQuery: boolean;
  timeouts: UpstreamTimeouts;
  retries: UpstreamRetries;
  circuitBreaker: CircuitBreakerConfig;
  /** Pooled keep-alive connections to the upstream. */
  connections: number;
  /** Period of the light health probe (GET studies?limit=1); 0 turns it off. */
  healthCheckIntervalMs: number;
  /** Before a STOW, ask whether the SOP Instance is already there and compare its bytes: upstreams
   *  such as Orthanc answer 200 to a second, different instance and keep the first. */
  verifyDuplicates: boolean;
}

export type StoreConfig = LocalStoreConfig | DicomwebStoreConfig;

export const DICOMWEB_DEFAULTS = {
  timeouts: { connectMs: 5_000, firstByteMs: 60_000, idleMs: 60_000 },
  retries: { attempts: 3, baseDelayMs: 100, maxDelayMs: 2_000 },
  circuitBreaker: { failureThreshold: 5, openMs: 10_000 },
  connections: 32,
  healthCheckIntervalMs: 30_000,
  percentEncodeQuery: true,
  verifyDuplicates: true,
} as const;
