/**
 * Reads the security and operations settings (security-config.ts) from the environment and the
 * YAML file. Authentication may be off only while the gateway listens on loopback: started on
 * another address without it, the gateway refuses to start and says so; required without any way
 * to authenticate, likewise.
 */
import { resolve } from 'node:path';
import { isHttpUrl, Mapping } from './config-values';
import { Env } from './field-reader';
import { ASYMMETRIC_ALGORITHMS, AuthConfig, DEFAULT_JWT_ALGORITHMS, isLoopbackHost, JwtAuthConfig, SecurityConfig } from './security-config';
import { SettingReader } from './setting-reader';

const AUTH_KEYS = ['mode', 'jwt', 'apiKeys', 'scopePrefix', 'publicMetrics'];
const JWT_KEYS = ['issuer', 'audience', 'jwksUrl', 'algorithms', 'clockToleranceSeconds', 'scopeClaims', 'identityClaim', 'keySetCooldownSeconds'];

export function loadSecurity(file: Mapping, env: Env, host: string, problems: string[]): SecurityConfig {
  const r = new SettingReader(file, env, problems);
  r.onlyKeys('auth', AUTH_KEYS);
  r.onlyKeys('auth.jwt', JWT_KEYS);
  r.onlyKeys('cors', ['origins', 'maxAgeSeconds', 'credentials']);
  r.onlyKeys('rateLimits', ['requestsPerMinute', 'burst', 'concurrentUploads']);
  r.onlyKeys('audit', ['jsonLinesFile']);
  r.onlyKeys('tls', ['certFile', 'keyFile']);
  r.onlyKeys('health', ['minFreeDiskBytes']);
  const auth = readAuth(r, host, problems);
  const origins = r.list('CORS_ORIGINS', 'cors.origins', []);
  for (const origin of origins) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) r.problem('CORS_ORIGINS', 'cors.origins', `"${origin}" is not an origin (scheme://host[:port], no path) or "*"`);
  }
  const credentials = r.bool('CORS_CREDENTIALS', 'cors.credentials', false);
  if (credentials && origins.includes('*')) r.problem('CORS_CREDENTIALS', 'cors.credentials', 'cannot be true with the origin "*" (browsers refuse it)');
  const certFile = r.str('TLS_CERT_FILE', 'tls.certFile');
  const keyFile = r.str('TLS_KEY_FILE', 'tls.keyFile');
  if ((certFile === undefined) !== (keyFile === undefined)) problems.push('TLS_CERT_FILE and TLS_KEY_FILE (tls.certFile, tls.keyFile): give both or neither');
  const logFormat = r.str('LOG_FORMAT', 'logFormat', 'json')!;
  if (logFormat !== 'json' && logFormat !== 'text') r.problem('LOG_FORMAT', 'logFormat', `"${logFormat}" is not one of json, text`);
  const jsonLinesFile = r.str('AUDIT_JSONL_FILE', 'audit.jsonLinesFile');
  return {
    auth,
    cors: { origins, maxAgeSeconds: r.int('CORS_MAX_AGE_SECONDS', 'cors.maxAgeSeconds', 600, 0, 86_400), credentials },
    rateLimits: {
      requestsPerMinute: r.int('RATE_LIMIT_PER_MINUTE', 'rateLimits.requestsPerMinute', 0, 0, 10_000_000),
      burst: r.int('RATE_LIMIT_BURST', 'rateLimits.burst', 100, 1, 1_000_000),
      concurrentUploads: r.int('MAX_CONCURRENT_UPLOADS', 'rateLimits.concurrentUploads', 0, 0, 100_000),
    },
    audit: { jsonLinesFile: jsonLinesFile ? resolve(jsonLinesFile) : undefined },
    server: {
      tls: certFile && keyFile ? { certFile: resolve(certFile), keyFile: resolve(keyFile) } : undefined,
      shutdownTimeoutMs: r.int('SHUTDOWN_TIMEOUT_MS', 'shutdownTimeoutMs', 30_000, 0, 3_600_000),
      logFormat: logFormat === 'text' ? 'text' : 'json',
      minFreeDiskBytes: r.int('HEALTH_MIN_FREE_DISK_BYTES', 'health.minFreeDiskBytes', 256 * 1024 ** 2, 0, Number.MAX_SAFE_INTEGER),
      slowClients: {
        headersTimeoutMs: r.int('HEADERS_TIMEOUT_MS', 'slowClients.headersTimeoutMs', 20_000, 500, 600_000),
        idleTimeoutMs: r.int('IDLE_TIMEOUT_MS', 'slowClients.idleTimeoutMs', 60_000, 500, 3_600_000),
        minBodyBytesPerSecond: r.int('MIN_BODY_BYTES_PER_SECOND', 'slowClients.minBodyBytesPerSecond', 1024, 0, 1024 ** 3),
        bodyRateWindowMs: r.int('BODY_RATE_WINDOW_MS', 'slowClients.bodyRateWindowMs', 30_000, 500, 3_600_000),
      },
    },
  };
}

function readAuth(r: SettingReader, host: string, problems: string[]): AuthConfig {
  const loopback = isLoopbackHost(host);
  const mode = r.str('AUTH_MODE', 'auth.mode', loopback ? 'off' : 'required')!;
  if (mode !== 'required' && mode !== 'off') r.problem('AUTH_MODE', 'auth.mode', `"${mode}" is not one of required, off`);
  const jwt = readJwt(r);
  const apiKeys = r.bool('AUTH_API_KEYS', 'auth.apiKeys', true);
  if (mode === 'off' && !loopback) {
    problems.push(
      `AUTH_MODE (auth.mode): authentication is off while the gateway listens on ${host}, which is not a loopback address: ` +
        'anyone who reaches it could read and write every study. Set AUTH_MODE=required with auth.jwt or API keys, or listen on 127.0.0.1',
    );
  }
  if (mode === 'required' && !jwt && !apiKeys) problems.push('AUTH_MODE (auth.mode): required, but neither auth.jwt nor API keys (auth.apiKeys) can authenticate anyone');
  const scopePrefix = r.str('AUTH_SCOPE_PREFIX', 'auth.scopePrefix', 'dicomweb:')!;
  if (!/^[\x21\x23-\x5b\x5d-\x7e]{0,40}$/.test(scopePrefix)) r.problem('AUTH_SCOPE_PREFIX', 'auth.scopePrefix', 'must be up to 40 characters allowed in an OAuth2 scope');
  return { mode: mode === 'off' ? 'off' : 'required', jwt, apiKeys, scopePrefix, publicMetrics: r.bool('AUTH_PUBLIC_METRICS', 'auth.publicMetrics', true) };
}

function readJwt(r: SettingReader): JwtAuthConfig | undefined {
  const issuer = r.str('AUTH_JWT_ISSUER', 'auth.jwt.issuer');
  const jwksUrl = r.str('AUTH_JWT_JWKS_URL', 'auth.jwt.jwksUrl');
  const audiences = r.list('AUTH_JWT_AUDIENCE', 'auth.jwt.audience', []);
  if (issuer === undefined && jwksUrl === undefined && audiences.length === 0) return undefined;
  if (!issuer) r.problem('AUTH_JWT_ISSUER', 'auth.jwt.issuer', 'required with auth.jwt');
  if (!jwksUrl) r.problem('AUTH_JWT_JWKS_URL', 'auth.jwt.jwksUrl', 'required with auth.jwt');
  else if (!isHttpUrl(jwksUrl)) r.problem('AUTH_JWT_JWKS_URL', 'auth.jwt.jwksUrl', `"${jwksUrl}" is not an http(s) URL`);
  if (audiences.length === 0) r.problem('AUTH_JWT_AUDIENCE', 'auth.jwt.audience', 'required with auth.jwt (the audience tokens for this gateway carry)');
  const algorithms = r.list('AUTH_JWT_ALGORITHMS', 'auth.jwt.algorithms', DEFAULT_JWT_ALGORITHMS);
  for (const alg of algorithms) {
    if (!ASYMMETRIC_ALGORITHMS.includes(alg)) {
      r.problem('AUTH_JWT_ALGORITHMS', 'auth.jwt.algorithms', `"${alg}" is not allowed (only ${ASYMMETRIC_ALGORITHMS.join(', ')}: never none, never a shared-secret HMAC)`);
    }
  }
  return {
    issuer: issuer ?? '',
    audiences,
    jwksUrl: jwksUrl ?? '',
    algorithms: algorithms.filter((a) => ASYMMETRIC_ALGORITHMS.includes(a)),
    clockToleranceSeconds: r.int('AUTH_JWT_CLOCK_TOLERANCE_SECONDS', 'auth.jwt.clockToleranceSeconds', 30, 0, 600),
    scopeClaims: r.list(undefined, 'auth.jwt.scopeClaims', ['scope', 'scp']),
    identityClaim: r.str(undefined, 'auth.jwt.identityClaim', 'sub')!,
    keySetCooldownSeconds: r.int('AUTH_JWT_KEY_SET_COOLDOWN_SECONDS', 'auth.jwt.keySetCooldownSeconds', 30, 0, 3600),
  };
}
