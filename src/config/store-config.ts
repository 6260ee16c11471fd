/**
 * The configuration of the named stores (YAML `stores`, see README "Stores"). Each store answers
 * at /stores/{name}/dicomweb; the default one also at /dicomweb. Secrets are resolved by the
 * config loader (from the file or from the environment variable it names) and never logged.
 */

/** Lower-case letters, digits and dashes: safe in a URL path segment and in a header. */
export const STORE_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Kinds the gateway knows. */
export const STORE_KINDS = ['local', 'dicomweb', 'healthimaging', 'gcp', 'federated'] as const;

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

/** What every store in front of a remote service has: its connection's limits and behaviour. */
export interface RemoteConnectionConfig {
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

export interface DicomwebStoreConfig extends RemoteConnectionConfig {
  name: string;
  kind: 'dicomweb';
  /** The upstream's DICOMweb root, e.g. http://orthanc:8042/dicom-web (no trailing slash). */
  url: string;
  auth: UpstreamAuthConfig;
  /** Percent-encode QIDO values (RFC 3986). false for upstreams that do not decode them (Orthanc):
   *  values are then sent raw, and what cannot be sent raw is matched at the gateway. */
  percentEncodeQuery: boolean;
}

/** Static AWS credentials; secrets resolved from the file or the environment variables named. */
export interface AwsCredentialsConfig {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** The S3 import-job path of HealthImaging (StartDICOMImportJob), see README "AWS HealthImaging". */
export interface HealthImagingImportJobConfig {
  /** Bucket the instances are written to, and the job's results read from. */
  bucket: string;
  /** Key prefix of everything the gateway writes there ("" or ending in "/"). */
  prefix: string;
  /** The IAM role HealthImaging assumes to read the bucket (arn:aws:iam::ACCOUNT:role/NAME). */
  dataAccessRoleArn: string;
  /** First wait between two GetDICOMImportJob calls; it grows to ten times this. */
  pollIntervalMs: number;
  /** A job not ended after this fails its instances (they are retried by whoever sent them). */
  maxWaitMs: number;
  /** Instances arriving within this window go into one job (StartDICOMImportJob allows 1/s). */
  batchWindowMs: number;
  maxInstancesPerJob: number;
}

export interface HealthImagingStoreConfig extends RemoteConnectionConfig {
  name: string;
  kind: 'healthimaging';
  region: string;
  /** 32 lower-case letters and digits. */
  datastoreId: string;
  /** Absent: the standard AWS chain (environment, shared files, SSO, container and instance roles). */
  credentials?: AwsCredentialsConfig;
  /** Origins of the three services (overridable for FIPS hosts, VPC endpoints, tests). */
  endpoints: {
    /** DICOMweb: https://dicom-medical-imaging.{region}.amazonaws.com */
    dicomweb: string;
    /** Control plane: https://medical-imaging.{region}.amazonaws.com */
    control: string;
    /** S3, for the import-job path; absent: the SDK's default for the region. */
    s3?: string;
  };
  /** How instances are stored: HealthImaging's DICOMweb STOW, or S3 and an import job. */
  stow: 'dicomweb' | 'import-job';
  /** Largest STOW request; batches are split below it (HealthImaging: 1 GB). */
  maxStowRequestBytes: number;
  /** HealthImaging's documented search limits, in case AWS changes them: most results per
   *  request, largest offset, most includefield values. */
  qidoLimits: { maxLimit: number; maxOffset: number; maxIncludeFields: number };
  /** Required for stow: import-job; with stow: dicomweb it takes the instances too large for one
   *  STOW request. */
  importJob?: HealthImagingImportJobConfig;
}

/** A DICOM store of the Google Cloud Healthcare API. */
export interface GcpStoreConfig extends RemoteConnectionConfig {
  name: string;
  kind: 'gcp';
  project: string;
  location: string;
  dataset: string;
  dicomStore: string;
  /** A service account key (its JSON); absent: Application Default Credentials (the
   *  GOOGLE_APPLICATION_CREDENTIALS file, gcloud's, or the metadata server of GCE, GKE, Cloud Run). */
  serviceAccountKey?: { json: string; source: string };
  /** Origin of the Healthcare API (https://healthcare.googleapis.com; a Private Service Connect
   *  endpoint, or a test server). */
  endpoint: string;
  /** Google's token endpoint, when it is reached at another address (Private Service Connect,
   *  tests): the JWT-bearer grant is sent there; the assertion still names Google's. */
  tokenUrl?: string;
  scopes: string[];
  /** A token is renewed this long before it expires. */
  tokenRefreshMarginMs: number;
  /** Google's most QIDO results per request, by level (documented defaults 100/100/1000 and
   *  maxima 5000/5000/50000): larger pages are asked in several requests. */
  qidoMaxLimits: { study: number; series: number; instance: number };
}

/** Any store that is reached over the network and relays its upstream's answers. */
export type RemoteStoreConfig = DicomwebStoreConfig | HealthImagingStoreConfig | GcpStoreConfig;

/** One DICOMweb view over other named stores (stores/federated/). */
export interface FederatedStoreConfig {
  name: string;
  kind: 'federated';
  /** Names of the member stores, most preferred first: its attributes win for an object several
   *  members hold, and it is asked first for what they all might hold. */
  members: string[];
  /** The member STOW goes to; without one the federated store is read-only. */
  writeMember?: string;
  /** How long a member may take to answer a search before it is left out (with a Warning). */
  memberTimeoutMs: number;
  /** Most matches asked of one member for one search (members are paged up to it). */
  maxMatchesPerMember: number;
  /** How long where a study was found is remembered (Redis, or in process without REDIS_URL). */
  locationTtlMs: number;
}

export type StoreConfig = LocalStoreConfig | RemoteStoreConfig | FederatedStoreConfig;

export const FEDERATED_DEFAULTS = {
  memberTimeoutMs: 5_000,
  maxMatchesPerMember: 5_000,
  locationTtlMs: 24 * 3_600_000,
} as const;

export const DICOMWEB_DEFAULTS = {
  timeouts: { connectMs: 5_000, firstByteMs: 60_000, idleMs: 60_000 },
  retries: { attempts: 3, baseDelayMs: 100, maxDelayMs: 2_000 },
  circuitBreaker: { failureThreshold: 5, openMs: 10_000 },
  connections: 32,
  healthCheckIntervalMs: 30_000,
  percentEncodeQuery: true,
  verifyDuplicates: true,
} as const;

export const HEALTHIMAGING_DEFAULTS = {
  /** "Max 1 GB of DICOM data per request" (HealthImaging developer guide, DICOMweb storing), read
   *  as 10^9 bytes, the smaller of the two readings. */
  maxStowRequestBytes: 1_000_000_000,
  qidoLimits: { maxLimit: 1000, maxOffset: 1_000_000, maxIncludeFields: 50 },
  importJob: { prefix: 'dicomweb-gateway/', pollIntervalMs: 2_000, maxWaitMs: 3_600_000, batchWindowMs: 2_000, maxInstancesPerJob: 5_000 },
} as const;

export const GCP_DEFAULTS = {
  endpoint: 'https://healthcare.googleapis.com',
  scopes: ['https://www.googleapis.com/auth/cloud-healthcare'],
  tokenRefreshMarginMs: 300_000,
  qidoMaxLimits: { study: 5000, series: 5000, instance: 50000 },
} as const;
