/**
 * The security and operations settings: secure defaults (authentication required off loopback),
 * the refusal to run without it on a public address, and every bad value named.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/config/gateway-config';
import { loadConfig } from '../../src/config/load-config';
import { grantsOf, mayUse } from '../../src/auth/principal';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.problems;
  }
  assert.fail('expected a ConfigError');
}

test('defaults: off on loopback, required (API keys) elsewhere; CORS, limits and TLS off; JSON logs', () => {
  const local = loadConfig({});
  assert.equal(local.security.auth.mode, 'off');
  assert.equal(local.security.auth.apiKeys, true);
  assert.equal(local.security.auth.jwt, undefined);
  assert.deepEqual(local.security.cors.origins, []);
  assert.equal(local.security.rateLimits.requestsPerMinute, 0);
  assert.equal(local.security.server.tls, undefined);
  assert.equal(local.security.server.logFormat, 'json');
  const published = loadConfig({ HOST: '0.0.0.0' });
  assert.equal(published.security.auth.mode, 'required');
});

test('a JWT provider from the environment, with audiences and algorithms as lists', () => {
  const c = loadConfig({
    AUTH_MODE: 'required',
    AUTH_JWT_ISSUER: 'https://idp.example/realms/x',
    AUTH_JWT_AUDIENCE: 'gateway, viewer',
    AUTH_JWT_JWKS_URL: 'https://idp.example/realms/x/certs',
    AUTH_JWT_ALGORITHMS: 'RS256,ES256',
    CORS_ORIGINS: 'https://viewer.example.org,http://localhost:3000',
    RATE_LIMIT_PER_MINUTE: '600',
    TLS_CERT_FILE: '/etc/gw/cert.pem',
    TLS_KEY_FILE: '/etc/gw/key.pem',
  });
  assert.deepEqual(c.security.auth.jwt?.audiences, ['gateway', 'viewer']);
  assert.deepEqual(c.security.auth.jwt?.algorithms, ['RS256', 'ES256']);
  assert.deepEqual(c.security.auth.jwt?.scopeClaims, ['scope', 'scp']);
  assert.deepEqual(c.security.cors.origins, ['https://viewer.example.org', 'http://localhost:3000']);
  assert.deepEqual(c.security.server.tls, { certFile: '/etc/gw/cert.pem', keyFile: '/etc/gw/key.pem' });
});

test('unsafe or broken settings are refused, each named', () => {
  const found = problems({
    HOST: '10.0.0.5',
    AUTH_MODE: 'off',
    AUTH_JWT_ISSUER: 'https://idp.example',
    AUTH_JWT_ALGORITHMS: 'RS256,none,HS256',
    CORS_ORIGINS: '*,https://x.example/path',
    CORS_CREDENTIALS: 'true',
    TLS_CERT_FILE: '/etc/cert.pem',
    LOG_FORMAT: 'xml',
  });
  const expect = [
    /AUTH_MODE \(auth\.mode\): authentication is off while the gateway listens on 10\.0\.0\.5/,
    /AUTH_JWT_JWKS_URL \(auth\.jwt\.jwksUrl\): required with auth\.jwt/,
    /AUTH_JWT_AUDIENCE \(auth\.jwt\.audience\): required/,
    /AUTH_JWT_ALGORITHMS \(auth\.jwt\.algorithms\): "none" is not allowed/,
    /AUTH_JWT_ALGORITHMS \(auth\.jwt\.algorithms\): "HS256" is not allowed/,
    /CORS_ORIGINS \(cors\.origins\): "https:\/\/x\.example\/path" is not an origin/,
    /CORS_CREDENTIALS \(cors\.credentials\): cannot be true with the origin "\*"/,
    /TLS_CERT_FILE and TLS_KEY_FILE/,
    /LOG_FORMAT \(logFormat\): "xml" is not one of json, text/,
  ];
  for (const re of expect) assert.ok(found.some((p) => re.test(p)), `${re} in:\n${found.join('\n')}`);
  assert.ok(problems({ AUTH_MODE: 'required', AUTH_API_KEYS: 'false' }).some((p) => /neither auth\.jwt nor API keys/.test(p)));
});

test('scopes: all stores, one store, admin; other scopes grant nothing', () => {
  const g = grantsOf(['openid', 'dicomweb:read', 'dicomweb:write:edge', 'dicomweb:admin', 'dicomweb:write:Bad_Name', 'other:read'], 'dicomweb:');
  assert.ok(mayUse(g, 'read', 'anything'));
  assert.ok(mayUse(g, 'write', 'edge'));
  assert.ok(!mayUse(g, 'write', 'main'));
  assert.equal(g.admin, true);
  assert.equal(grantsOf(['gw.read'], 'dicomweb:').read.size, 0);
  assert.ok(mayUse(grantsOf(['gw.read'], 'gw.'), 'read', 'main'), 'a configured prefix');
});
