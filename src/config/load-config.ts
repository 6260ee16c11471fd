import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError, DEFAULT_EVENTS, DEFAULT_LIMITS, DEFAULT_METADATA_CACHE, EventsConfig, GatewayConfig, MetadataCacheConfig } from './gateway-config';
import { loadEdge } from './load-edge';
import { retrySchedule } from './delivery-schedule';
import { loadSecurity } from './load-security';
import { loadStores } from './load-stores';
import { isHttpUrl, isMapping as isRecord } from './config-values';

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Reads the configuration: environment variables win over the YAML file, which wins over the
 * defaults. Every problem is collected, so one failed start names every bad key at once.
 */
export function loadConfig(env: Env = process.env): GatewayConfig {
  const problems: string[] = [];
  const file = env.CONFIG_FILE ? readYamlFile(env.CONFIG_FILE, problems) : {};
  const pick = (envKey: string, fileKey: string): unknown => env[envKey] ?? file[fileKey];

  const str = (envKey: string, fileKey: string, fallback?: string): string | undefined => {
    const v = pick(envKey, fileKey);
    if (v === undefined || v === '') return fallback;
    if (typeof v !== 'string' && typeof v !== 'number') {
      problems.push(`${envKey} (${fileKey}): expected a string`);
      return fallback;
    }
    return String(v);
  };
  const int = (envKey: string, fileKey: string, fallback: number, min: number, max: number): number => {
    const v = pick(envKey, fileKey);
    if (v === undefined || v === '') return fallback;
    const n = typeof v === 'number' ? v : /^\s*\d+\s*$/.test(String(v)) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      problems.push(`${envKey} (${fileKey}): "${String(v)}" is not an integer between ${min} and ${max}`);
      return fallback;
    }
    return n;
  };
  const bool = (envKey: string, fileKey: string, fallback: boolean): boolean => {
    const v = pick(envKey, fileKey);
    if (v === undefined || v === '') return fallback;
    if (typeof v === 'boolean') return v;
    if (/^(true|1|yes)$/i.test(String(v))) return true;
    if (/^(false|0|no)$/i.test(String(v))) return false;
    problems.push(`${envKey} (${fileKey}): "${String(v)}" is not a boolean (true/false)`);
    return fallback;
  };

  const host = str('HOST', 'host', '127.0.0.1')!;
  if (!/^[A-Za-z0-9.:\-\[\]]+$/.test(host)) problems.push(`HOST (host): "${host}" is not a host name or address`);
  const port = int('PORT', 'port', 8080, 0, 65535);
  const dataDir = resolve(str('DATA_DIR', 'dataDir', './data')!);

  const redisUrl = str('REDIS_URL', 'redisUrl');
  if (redisUrl && !/^rediss?:\/\/[^\s]+$/.test(redisUrl)) {
    problems.push(`REDIS_URL (redisUrl): "${redisUrl}" is not a redis:// or rediss:// URL`);
  }
  const publicBaseUrl = str('PUBLIC_BASE_URL', 'publicBaseUrl');
  if (publicBaseUrl && !isHttpUrl(publicBaseUrl)) {
    problems.push(`PUBLIC_BASE_URL (publicBaseUrl): "${publicBaseUrl}" is not an http(s) URL`);
  }
  const redisKeyPrefix = str('REDIS_KEY_PREFIX', 'redisKeyPrefix', 'dicomweb-gateway')!;
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(redisKeyPrefix)) {
    problems.push(`REDIS_KEY_PREFIX (redisKeyPrefix): "${redisKeyPrefix}" must be 1-64 letters, digits, dots, dashes or underscores`);
  }
  const logLevel = str('LOG_LEVEL', 'logLevel', 'info')!;
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    problems.push(`LOG_LEVEL (logLevel): "${logLevel}" is not one of ${LOG_LEVELS.join(', ')}`);
  }
  const fileLimits = (isRecord(file.limits) ? file.limits : {}) as Record<string, unknown>;
  const limit = (envKey: string, key: keyof typeof DEFAULT_LIMITS, min: number): number =>
    intFrom(env[envKey] ?? fileLimits[key], envKey, `limits.${key}`, DEFAULT_LIMITS[key], min, problems);

  const qidoMaxLimit = int('QIDO_MAX_LIMIT', 'qidoMaxLimit', 1000, 1, 1_000_000);
  const { stores, defaultStore } = loadStores(file, env, dataDir, problems);
  const edge = loadEdge(file, stores, defaultStore, problems);
  // metadataCache.<key> in the file, METADATA_CACHE_<KEY> in the environment (milliseconds, bytes).
  const fileCache = (isRecord(file.metadataCache) ? file.metadataCache : {}) as Record<string, unknown>;
  if (file.metadataCache !== undefined && !isRecord(file.metadataCache)) problems.push('metadataCache: expected a mapping');
  for (const key of Object.keys(fileCache)) {
    if (!(key in DEFAULT_METADATA_CACHE)) problems.push(`metadataCache.${key}: unknown key (expected one of ${Object.keys(DEFAULT_METADATA_CACHE).join(', ')})`);
  }
  const cacheValue = (key: keyof MetadataCacheConfig, min: number): number => {
    const envKey = `METADATA_CACHE_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
    return intFrom(env[envKey] ?? fileCache[key], envKey, `metadataCache.${key}`, DEFAULT_METADATA_CACHE[key], min, problems);
  };
  const metadataCache: MetadataCacheConfig = {
    ttlMs: cacheValue('ttlMs', 1000),
    maxStalenessMs: cacheValue('maxStalenessMs', 0),
    maxStudyBytes: cacheValue('maxStudyBytes', 1024),
    maxTotalBytes: cacheValue('maxTotalBytes', 1024 * 1024),
    memoryMaxBytes: cacheValue('memoryMaxBytes', 1024 * 1024),
  };

  const fileEvents = (isRecord(file.events) ? file.events : {}) as Record<string, unknown>;
  if (file.events !== undefined && !isRecord(file.events)) problems.push('events: expected a mapping');
  const EVENT_KEYS = ['quietPeriodMs', 'tokenTtlSeconds', 'tokenSecret', 'allowPrivateWebhookTargets', 'deliveryTimeoutMs', 'deliveryConcurrency'];
  for (const key of Object.keys(fileEvents)) if (!EVENT_KEYS.includes(key)) problems.push(`events.${key}: unknown key (expected one of ${EVENT_KEYS.join(', ')})`);
  const eventsInt = (envKey: string, key: 'quietPeriodMs' | 'tokenTtlSeconds' | 'deliveryTimeoutMs' | 'deliveryConcurrency', min: number) =>
    intFrom(env[envKey] ?? fileEvents[key], envKey, `events.${key}`, DEFAULT_EVENTS[key], min, problems);
  const tokenSecret = env.EVENTS_TOKEN_SECRET ?? (typeof fileEvents.tokenSecret === 'string' ? fileEvents.tokenSecret : undefined);
  if (tokenSecret !== undefined && tokenSecret.length < 32) problems.push('EVENTS_TOKEN_SECRET (events.tokenSecret): at least 32 characters');
  const allowPrivate = env.EVENTS_ALLOW_PRIVATE_WEBHOOK_TARGETS ?? fileEvents.allowPrivateWebhookTargets;
  if (allowPrivate !== undefined && !['true', 'false', true, false].includes(allowPrivate as string | boolean)) {
    problems.push('EVENTS_ALLOW_PRIVATE_WEBHOOK_TARGETS (events.allowPrivateWebhookTargets): expected true or false');
  }
  const events: EventsConfig = {
    quietPeriodMs: eventsInt('EVENTS_QUIET_PERIOD_MS', 'quietPeriodMs', 0),
    tokenTtlSeconds: eventsInt('EVENTS_TOKEN_TTL_SECONDS', 'tokenTtlSeconds', 10),
    tokenSecret,
    allowPrivateWebhookTargets: allowPrivate === true || allowPrivate === 'true',
    deliveryTimeoutMs: eventsInt('EVENTS_DELIVERY_TIMEOUT_MS', 'deliveryTimeoutMs', 100),
    deliveryConcurrency: eventsInt('EVENTS_DELIVERY_CONCURRENCY', 'deliveryConcurrency', 1),
    deliveryRetryScheduleMs: retrySchedule(env, problems),
    deliveryPausedRecheckMs: intFrom(env.EVENTS_DELIVERY_PAUSED_RECHECK_MS, 'EVENTS_DELIVERY_PAUSED_RECHECK_MS', 'events.deliveryPausedRecheckMs', DEFAULT_EVENTS.deliveryPausedRecheckMs, 10, problems),
  };

  const config: GatewayConfig = {
    host,
    port,
    dataDir,
    redisUrl,
    redisKeyPrefix,
    configFile: env.CONFIG_FILE,
    publicBaseUrl: publicBaseUrl?.replace(/\/+$/, ''),
    trustProxy: bool('TRUST_PROXY', 'trustProxy', false),
    logLevel: logLevel as GatewayConfig['logLevel'],
    limits: {
      maxRequestBytes: limit('MAX_REQUEST_BYTES', 'maxRequestBytes', 1024),
      maxInstanceBytes: limit('MAX_INSTANCE_BYTES', 'maxInstanceBytes', 1024),
      maxHeaderBytes: limit('MAX_HEADER_BYTES', 'maxHeaderBytes', 64 * 1024),
      maxInstancesPerRequest: limit('MAX_INSTANCES_PER_REQUEST', 'maxInstancesPerRequest', 1),
    },
    inlineBinaryThreshold: int('INLINE_BINARY_THRESHOLD', 'inlineBinaryThreshold', 1024, 0, 1024 * 1024),
    qidoMaxLimit,
    // Unset, it follows a lower maximum down.
    qidoDefaultLimit: int('QIDO_DEFAULT_LIMIT', 'qidoDefaultLimit', Math.min(100, qidoMaxLimit), 1, 1_000_000),
    stores,
    defaultStore,
    edge,
    metadataCache,
    events,
    security: loadSecurity(file, env, host, problems),
    pixels: {
      workers: int('PIXEL_WORKERS', 'pixelWorkers', availableParallelism(), 1, 256),
      frameCacheBytes: int('DECODED_FRAME_CACHE_BYTES', 'decodedFrameCacheBytes', 256 * 1024 * 1024, 0, Number.MAX_SAFE_INTEGER),
    },
  };
  if (config.qidoDefaultLimit > config.qidoMaxLimit) {
    problems.push(
      `QIDO_DEFAULT_LIMIT (qidoDefaultLimit): ${config.qidoDefaultLimit} is larger than QIDO_MAX_LIMIT (qidoMaxLimit) ${config.qidoMaxLimit}`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

function intFrom(v: unknown, envKey: string, fileKey: string, fallback: number, min: number, problems: string[]): number {
  if (v === undefined || v === '') return fallback;
  const n = typeof v === 'number' ? v : /^\s*\d+\s*$/.test(String(v)) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min) {
    problems.push(`${envKey} (${fileKey}): "${String(v)}" is not an integer of at least ${min}`);
    return fallback;
  }
  return n;
}

function readYamlFile(path: string, problems: string[]): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    problems.push(`CONFIG_FILE: cannot read "${path}": ${(e as Error).message}`);
    return {};
  }
  try {
    const doc = parseYaml(text) as unknown;
    if (doc === null || doc === undefined) return {};
    if (typeof doc !== 'object' || Array.isArray(doc)) {
      problems.push(`CONFIG_FILE: "${path}" must hold a YAML mapping at the top`);
      return {};
    }
    return doc as Record<string, unknown>;
  } catch (e) {
    problems.push(`CONFIG_FILE: "${path}" is not valid YAML: ${(e as Error).message}`);
    return {};
  }
}
