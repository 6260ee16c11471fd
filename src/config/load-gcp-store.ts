/**
 * Reads one `kind: gcp` store (a Google Cloud Healthcare DICOM store): its resource names, a
 * service account key (a file, or the JSON in an environment variable) or else Application
 * Default Credentials, and endpoint overrides. A key is read and checked at start, so a missing
 * or malformed one stops the start with its name, never the first request.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { GCP_DEFAULTS, GcpStoreConfig } from './store-config';
import { isHttpUrl } from './config-values';
import { Env, FieldReader } from './field-reader';
import { readRemoteConnection, REMOTE_CONNECTION_KEYS } from './load-remote-connection';

const KEYS = ['name', 'kind', 'project', 'location', 'dataset', 'dicomStore', 'credentials', 'endpoint', 'tokenUrl', 'scopes', 'tokenRefreshMarginMs', 'qidoMaxLimits', ...REMOTE_CONNECTION_KEYS];
/** Google resource ids: letters, digits and a few separators (project ids are stricter). */
const RESOURCE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,255}$/;

export function readGcpStore(r: FieldReader, name: string, env: Env, problems: string[]): GcpStoreConfig {
  r.onlyKeys(KEYS);
  const id = (key: string): string => {
    const value = r.string(key, true) ?? '';
    if (value && !RESOURCE_ID.test(value)) problems.push(`${r.label}${key}: "${value}" is not a Google Cloud resource id`);
    return value;
  };
  const url = (key: string, fallback: string | undefined): string | undefined => {
    const value = r.string(key);
    if (value !== undefined && !isHttpUrl(value)) problems.push(`${r.label}${key}: "${value}" is not an http(s) URL`);
    return (value ?? fallback)?.replace(/\/+$/, '');
  };
  const scopes = r.stringList('scopes', isHttpUrl) ?? [...GCP_DEFAULTS.scopes];
  const limits = r.child('qidoMaxLimits', ['study', 'series', 'instance']);
  const d = GCP_DEFAULTS.qidoMaxLimits;
  return {
    name,
    kind: 'gcp',
    project: id('project'),
    location: id('location'),
    dataset: id('dataset'),
    dicomStore: id('dicomStore'),
    serviceAccountKey: r.has('credentials') ? readKey(r.child('credentials', ['keyFile', 'keyJsonEnv']), env, problems) : undefined,
    endpoint: url('endpoint', GCP_DEFAULTS.endpoint)!,
    tokenUrl: url('tokenUrl', undefined),
    scopes,
    tokenRefreshMarginMs: r.integer('tokenRefreshMarginMs', GCP_DEFAULTS.tokenRefreshMarginMs, 0, 3_000_000),
    qidoMaxLimits: {
      study: limits.integer('study', d.study, 1, 1_000_000),
      series: limits.integer('series', d.series, 1, 1_000_000),
      instance: limits.integer('instance', d.instance, 1, 1_000_000),
    },
    ...readRemoteConnection(r, { verifyDuplicates: false }),
  };
}

/** The key's JSON, checked to be a service account key (never echoed: it holds a private key). */
function readKey(r: FieldReader, env: Env, problems: string[]): GcpStoreConfig['serviceAccountKey'] {
  const where = r.label.replace(/\.$/, '');
  const file = r.string('keyFile');
  const variable = r.string('keyJsonEnv');
  if ((file === undefined) === (variable === undefined)) {
    problems.push(`${where}: give either keyFile (a service account key file) or keyJsonEnv (a variable holding its JSON)`);
    return undefined;
  }
  let json: string | undefined;
  let source: string;
  if (file !== undefined) {
    source = `key file ${resolve(file)}`;
    try {
      json = readFileSync(resolve(file), 'utf8');
    } catch (e) {
      problems.push(`${r.label}keyFile: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      return undefined;
    }
  } else {
    source = `environment variable ${variable}`;
    json = env[variable!];
    if (!json) {
      problems.push(`${r.label}keyJsonEnv: the environment variable ${variable} is not set`);
      return undefined;
    }
  }
  let key: Record<string, unknown>;
  try {
    key = JSON.parse(json) as Record<string, unknown>;
  } catch {
    problems.push(`${where}: the ${source} is not JSON`);
    return undefined;
  }
  if (key.type !== 'service_account' || typeof key.client_email !== 'string' || typeof key.private_key !== 'string') {
    problems.push(`${where}: the ${source} is not a service account key (type, client_email and private_key are required)`);
    return undefined;
  }
  return { json, source };
}
