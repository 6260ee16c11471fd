/**
 * The one typed configuration of the gateway. Built once at start from the environment and an
 * optional YAML file (CONFIG_FILE); nothing else in the code reads process.env.
 */
import { EdgeConfig } from './edge-config';
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
  /** Edge store-and-forward (YAML `edge`); off when absent. */
  edge?: EdgeConfig;
}

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
