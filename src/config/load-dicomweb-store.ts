/** Reads one `kind: dicomweb` store (any standard DICOMweb server) and its upstream credentials. */
import { DICOMWEB_DEFAULTS, DicomwebStoreConfig, UpstreamAuthConfig } from './store-config';
import { isHttpUrl } from './config-values';
import { Env, FieldReader } from './field-reader';
import { readRemoteConnection, REMOTE_CONNECTION_KEYS } from './load-remote-connection';

const DICOMWEB_KEYS = ['name', 'kind', 'url', 'auth', 'percentEncodeQuery', ...REMOTE_CONNECTION_KEYS];
const AUTH_KEYS: Record<UpstreamAuthConfig['type'], string[]> = {
  none: ['type'],
  basic: ['type', 'username', 'password', 'passwordEnv'],
  bearer: ['type', 'token', 'tokenEnv'],
  oauth2: ['type', 'tokenUrl', 'clientId', 'clientSecret', 'clientSecretEnv', 'scope', 'audience'],
};

export function readDicomwebStore(r: FieldReader, name: string, env: Env, problems: string[]): DicomwebStoreConfig {
  r.onlyKeys(DICOMWEB_KEYS);
  const url = r.string('url', true);
  if (url !== undefined && !isHttpUrl(url)) problems.push(`${r.label}url: "${url}" is not an http(s) URL`);
  return {
    name,
    kind: 'dicomweb',
    url: (url ?? '').replace(/\/+$/, ''),
    auth: readAuth(r.child('auth', undefined), env, problems),
    percentEncodeQuery: r.boolean('percentEncodeQuery', DICOMWEB_DEFAULTS.percentEncodeQuery),
    ...readRemoteConnection(r),
  };
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
