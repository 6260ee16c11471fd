/**
 * Reads the `stores` list and `defaultStore` of the YAML file into typed store configurations.
 * Every problem names the store and the key (`stores[2] (orthanc): auth.passwordEnv ...`), so one
 * failed start lists them all. Unknown keys are problems too: a misspelt `pasword` must not leave
 * a store silently unauthenticated.
 */
import { resolve } from 'node:path';
import {
  DICOMWEB_DEFAULTS,
  DicomwebStoreConfig,
  LocalStoreConfig,
  STORE_KINDS,
  STORE_NAME_PATTERN,
  StoreConfig,
  UpstreamAuthConfig,
} from './store-config';
import { isHttpUrl, isMapping, Mapping } from './config-values';

type Env = Record<string, string | undefined>;

const COMMON_KEYS = ['name', 'kind'];
const LOCAL_KEYS = [...COMMON_KEYS, 'path'];
const DICOMWEB_KEYS = [
  ...COMMON_KEYS,
  'url',
  'auth',
  'percentEncodeQuery',
  'timeouts',
  'retries',
  'circuitBreaker',
  'connections',
  'healthCheckIntervalMs',
  'verifyDuplicates',
];
const AUTH_KEYS: Record<UpstreamAuthConfig['type'], string[]> = {
  none: ['type'],
  basic: ['type', 'username', 'password', 'passwordEnv'],
  bearer: ['type', 'token', 'tokenEnv'],
  oauth2: ['type', 'tokenUrl', 'clientId', 'clientSecret', 'clientSecretEnv', 'scope', 'audience'],
};

export interface LoadedStores {
  stores: StoreConfig[];
  defaultStore: string;
}

/** `file` is the whole YAML mapping; `dataDir` is already resolved. */
export function loadStores(file: Mapping, env: Env, dataDir: string, problems: string[]): LoadedStores {
  const list = file.stores;
  if (list === undefined || list === null) {
    if (file.defaultStore !== undefined) problems.push('defaultStore: given without a stores list');
    return { stores: [{ name: 'default', kind: 'local', path: resolve(dataDir, 'stores', 'default') }], defaultStore: 'default' };
  }
  if (!Array.isArray(list) || list.length === 0) {
    problems.push('stores: expected a non-empty list of stores');
    return { stores: [], defaultStore: '' };
  }
  const stores: StoreConfig[] = [];
  const names = new Set<string>();
  list.forEach((entry, index) => {
    const store = readStore(entry, index, env, dataDir, problems);
    if (!store) return;
    if (names.has(store.name)) problems.push(`stores[${index}] (${store.name}): name: another store already has this name`);
    names.add(store.name);
    stores.push(store);
  });
  let defaultStore = file.defaultStore;
  if (defaultStore === undefined) {
    if (list.length > 1) problems.push('defaultStore: required when several stores are listed (the store that also answers at /dicomweb)');
    defaultStore = stores[0]?.name ?? '';
  } else if (typeof defaultStore !== 'string' || !names.has(defaultStore)) {
    problems.push(`defaultStore: "${String(defaultStore)}" is not the name of a listed store (${[...names].join(', ')})`);
  }
  return { stores, defaultStore: String(defaultStore) };
}

function readStore(entry: unknown, index: number, env: Env, dataDir: string, problems: string[]): StoreConfig | undefined {
  if (!isMapping(entry)) {
    problems.push(`stores[${index}]: expected a mapping with name and kind`);
    return undefined;
  }
  const rawName = entry.name;
  const label = `stores[${index}]${typeof rawName === 'string' ? ` (${rawName})` : ''}`;
  const r = new FieldReader(entry, label, problems);
  const name = r.string('name', true) ?? '';
  if (name && !STORE_NAME_PATTERN.test(name)) {
    problems.push(`${label}: name: "${name}" must be 1-63 lower-case letters, digits or dashes, starting with a letter or digit`);
  }
  const kind = r.string('kind', true);
  if (kind === undefined) return undefined;
  if (!(STORE_KINDS as readonly string[]).includes(kind)) {
    problems.push(`${label}: kind: "${kind}" is not one of ${STORE_KINDS.join(', ')}`);
    return undefined;
  }
  if (kind === 'healthimaging' || kind === 'gcp') {
    problems.push(`${label}: kind: "${kind}" stores are not available in this version of the gateway`);
    return undefined;
  }
  if (kind === 'local') {
    r.onlyKeys(LOCAL_KEYS);
    const path = r.string('path');
    const store: LocalStoreConfig = { name, kind: 'local', path: path ? resolve(path) : resolve(dataDir, 'stores', name) };
    return store;
  }
  r.onlyKeys(DICOMWEB_KEYS);
  const url = r.string('url', true);
  if (url !== undefined && !isHttpUrl(url)) problems.push(`${label}: url: "${url}" is not an http(s) URL`);
  const d = DICOMWEB_DEFAULTS;
  const timeouts = r.child('timeouts', ['connectMs', 'firstByteMs', 'idleMs']);
  const retries = r.child('retries', ['attempts', 'baseDelayMs', 'maxDelayMs']);
  const breaker = r.child('circuitBreaker', ['failureThreshold', 'openMs']);
  const store: DicomwebStoreConfig = {
    name,
    kind: 'dicomweb',
    url: (url ?? '').replace(/\/+$/, ''),
    auth: readAuth(r.child('auth', undefined), env, problems),
    percentEncodeQuery: r.boolean('percentEncodeQuery', d.percentEncodeQuery),
    timeouts: {
      connectMs: timeouts.integer('connectMs', d.timeouts.connectMs, 1, 600_000),
      firstByteMs: timeouts.integer('firstByteMs', d.timeouts.firstByteMs, 1, 3_600_000),
      idleMs: timeouts.integer('idleMs', d.timeouts.idleMs, 1, 3_600_000),
    },
    retries: {
      attempts: retries.integer('attempts', d.retries.attempts, 1, 10),
      baseDelayMs: retries.integer('baseDelayMs', d.retries.baseDelayMs, 0, 60_000),
      maxDelayMs: retries.integer('maxDelayMs', d.retries.maxDelayMs, 0, 600_000),
    },
    circuitBreaker: {
      failureThreshold: breaker.integer('failureThreshold', d.circuitBreaker.failureThreshold, 1, 1000),
      openMs: breaker.integer('openMs', d.circuitBreaker.openMs, 1, 3_600_000),
    },
    connections: r.integer('connections', d.connections, 1, 1024),
    healthCheckIntervalMs: r.integer('healthCheckIntervalMs', d.healthCheckIntervalMs, 0, 86_400_000),
    verifyDuplicates: r.boolean('verifyDuplicates', d.verifyDuplicates),
  };
  return store;
}

function readAuth(r: FieldReader, env: Env, problems: string[]): UpstreamAuthConfig {
  if (!r.present) return { type: 'none' };
  const type = r.string('type', true) ?? 'none';
  if (!(type in AUTH_KEYS)) {
    problems.push(`${r.label}type: "${type}" is not one of ${Object.keys(AUTH_KEYS).join(', ')}`);
    return { type: 'none' };
  }
  r.onlyKeys(AUTH_KEYS[type as UpstreamAuthConfig['type']]);
  switch (type) {
    case 'basic':
      return { type, username: r.string('username', true) ?? '', password: r.secret('password', 'passwordEnv', env) };
    case 'bearer':
      return { type, token: r.secret('token', 'tokenEnv', env) };
    case 'oauth2': {
      const tokenUrl = r.string('tokenUrl', true) ?? '';
      if (tokenUrl && !isHttpUrl(tokenUrl)) problems.push(`${r.label}tokenUrl: "${tokenUrl}" is not an http(s) URL`);
      return {
        type,
        tokenUrl,
        clientId: r.string('clientId', true) ?? '',
        clientSecret: r.secret('clientSecret', 'clientSecretEnv', env),
        scope: r.string('scope'),
        audience: r.string('audience'),
      };
    }
    default:
      return { type: 'none' };
  }
}

/** Typed reads of one mapping, each problem prefixed with where it is. */
class FieldReader {
  readonly present: boolean;
  private readonly map: Mapping;

  constructor(
    value: unknown,
    private readonly where: string,
    private readonly problems: string[],
    private readonly path = '',
  ) {
    this.present = value !== undefined && value !== null;
    if (this.present && !isMapping(value)) problems.push(`${where}: ${path.replace(/\.$/, '')}: expected a mapping`);
    this.map = isMapping(value) ? value : {};
  }

  /** "stores[1] (orthanc): auth." */
  get label(): string {
    return `${this.where}: ${this.path}`;
  }

  child(key: string, keys: string[] | undefined): FieldReader {
    const reader = new FieldReader(this.map[key], this.where, this.problems, `${this.path}${key}.`);
    if (keys) reader.onlyKeys(keys);
    return reader;
  }

  onlyKeys(allowed: string[]): void {
    for (const key of Object.keys(this.map)) {
      if (!allowed.includes(key)) this.problems.push(`${this.label}${key}: unknown key (expected one of ${allowed.join(', ')})`);
    }
  }

  string(key: string, required = false): string | undefined {
    const v = this.map[key];
    if (v === undefined || v === null || v === '') {
      if (required) this.problems.push(`${this.label}${key}: required`);
      return undefined;
    }
    if (typeof v !== 'string' && typeof v !== 'number') {
      this.problems.push(`${this.label}${key}: expected a string`);
      return undefined;
    }
    return String(v);
  }

  integer(key: string, fallback: number, min: number, max: number): number {
    const v = this.map[key];
    if (v === undefined || v === null) return fallback;
    const n = typeof v === 'number' ? v : /^\s*\d+\s*$/.test(String(v)) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      this.problems.push(`${this.label}${key}: "${String(v)}" is not an integer between ${min} and ${max}`);
      return fallback;
    }
    return n;
  }

  boolean(key: string, fallback: boolean): boolean {
    const v = this.map[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v === 'boolean') return v;
    this.problems.push(`${this.label}${key}: "${String(v)}" is not a boolean (true/false)`);
    return fallback;
  }

  /** A secret given inline (`key`) or by the name of an environment variable (`envKey`). The
   *  value is never put into a message. */
  secret(key: string, envKey: string, env: Env): string {
    const inline = this.map[key];
    const variable = this.map[envKey];
    if (inline !== undefined && variable !== undefined) {
      this.problems.push(`${this.label}${key}: give either ${key} or ${envKey}, not both`);
      return '';
    }
    if (variable !== undefined) {
      if (typeof variable !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(variable)) {
        this.problems.push(`${this.label}${envKey}: expected the name of an environment variable`);
        return '';
      }
      const value = env[variable];
      if (value === undefined || value === '') {
        this.problems.push(`${this.label}${envKey}: the environment variable ${variable} is not set`);
        return '';
      }
      return value;
    }
    if (typeof inline !== 'string' || inline === '') {
      this.problems.push(`${this.label}${key}: required (or ${envKey}, the name of an environment variable holding it)`);
      return '';
    }
    return inline;
  }
}
