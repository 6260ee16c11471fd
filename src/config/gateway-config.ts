/**
 * The one typed configuration of the gateway. Built once at start from the environment and an
 * optional YAML file (CONFIG_FILE); nothing else in the code reads process.env.
 */
import { RETRY_SCHEDULE_MS } from './delivery-schedule';
import { EdgeConfig } from './edge-config';
import { SecurityConfig } from './security-config';
import { StoreConfig } from './store-config';

export interface LimitsConfig {
  /** Largest STOW request body accepted, in bytes (413 beyond). */
  maxRequestBytes: number;
  /** Largest single instance (multipart part) accepted, in bytes (that part fails, 0xA700). */
  maxInstanceBytes: number;
  /** Largest total of header values kept in memory for one instance (lying lengths defence). */
  maxHeaderBytes: number;
  /** Most parts in one STOW request (413 beyond). */
  maxInstancesPerRequest: number;
}

export interface GatewayConfig {
  host: string;
  port: number;
  /** Root of the embedded store and the staging area. */
  dataDir: string;
  redisUrl?: string;
  /** Prefix of every Redis key (queues, cache): several gateways, or test runs, share one Redis. */
  redisKeyPrefix: string;
  configFile?: string;
  /** Public base URL of the gateway (scheme://host[:port][/prefix]); derived from requests when unset. */
  publicBaseUrl?: string;
  /** Trust Forwarded / X-Forwarded-* headers (only behind a proxy you control). */
  trustProxy: boolean;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  limits: LimitsConfig;
  /** Binary values up to this size are inlined in metadata (InlineBinary), larger ones get a BulkDataURI. */
  inlineBinaryThreshold: number;
  /** QIDO-RS results in one answer when the request has no limit (PS3.18 8.3.4.4). */
  qidoDefaultLimit: number;
  /** The most QIDO-RS results one answer holds, whatever limit the request asks for. */
  qidoMaxLimit: number;
  /** The named stores (YAML `stores`); without that list, one local store named "default". */
  stores: StoreConfig[];
  /** Name of the store that also answers at /dicomweb. */
  defaultStore: string;
  /** Study metadata of remote stores cached in Redis (or in process without REDIS_URL). */
  metadataCache: MetadataCacheConfig;
  /** Study events and webhooks (YAML `events`). */
  events: EventsConfig;
  /** Edge store-and-forward (YAML `edge`); off when absent. */
  edge?: EdgeConfig;
  /** Authentication, CORS, rate limits, audit, TLS, shutdown, log format (security-config.ts). */
  security: SecurityConfig;
  /** Transcoding and rendering (pixels/). */
  pixels: PixelsConfig;
}

export interface PixelsConfig {
  /** Codec worker threads (PIXEL_WORKERS); default: the machine's available parallelism. */
  workers: number;
  /** Bytes of decoded frames kept for viewers that scroll back (DECODED_FRAME_CACHE_BYTES). */
  frameCacheBytes: number;
}

export interface EventsConfig {
  /** A study is stable when no instance arrived for this long. */
  quietPeriodMs: number;
  /** Lifetime of the study-scoped token a delivery carries. */
  tokenTtlSeconds: number;
  /** Secret signing those tokens (EVENTS_TOKEN_SECRET); generated and kept in events.sqlite when unset. */
  tokenSecret?: string;
  /** Webhook URLs may point at loopback, private and link-local addresses (tests, closed networks). */
  allowPrivateWebhookTargets: boolean;
  /** Time limit of one delivery attempt. */
  deliveryTimeoutMs: number;
  /** Deliveries sent at once, all subscribers together. */
  deliveryConcurrency: number;
  /** Delays after each failed delivery attempt (config/delivery-schedule.ts), then dead. */
  deliveryRetryScheduleMs: number[];
  /** How often the deliveries of a paused subscription look again. */
  deliveryPausedRecheckMs: number;
}

export const DEFAULT_EVENTS: EventsConfig = {
  quietPeriodMs: 30_000,
  tokenTtlSeconds: 3600,
  allowPrivateWebhookTargets: false,
  deliveryTimeoutMs: 10_000,
  deliveryConcurrency: 32,
  deliveryRetryScheduleMs: [...RETRY_SCHEDULE_MS],
  deliveryPausedRecheckMs: 30_000,
};

export interface MetadataCacheConfig {
  /** A study's entry is dropped this long after its last write. */
  ttlMs: number;
  /** The upstream's answer is asked again once the cached one is older than this. */
  maxStalenessMs: number;
  /** A study whose cached metadata would exceed this (compressed in Redis) is not cached. */
  maxStudyBytes: number;
  /** All cached studies together, in Redis; the oldest written go first. */
  maxTotalBytes: number;
  /** The in-process cache used without REDIS_URL. */
  memoryMaxBytes: number;
}

export const DEFAULT_METADATA_CACHE: MetadataCacheConfig = {
  ttlMs: 24 * 3600_000,
  maxStalenessMs: 5 * 60_000,
  maxStudyBytes: 64 * 1024 ** 2,
  maxTotalBytes: 1024 ** 3,
  memoryMaxBytes: 64 * 1024 ** 2,
};

export const DEFAULT_LIMITS: LimitsConfig = {
  maxRequestBytes: 64 * 1024 ** 3,
  maxInstanceBytes: 8 * 1024 ** 3,
  maxHeaderBytes: 64 * 1024 ** 2,
  maxInstancesPerRequest: 100_000,
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}
