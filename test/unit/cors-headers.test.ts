/**
 * The CORS headers the gateway sets itself on answers @fastify/cors never sees (the URLs Fastify
 * refuses before any hook, http/framework-errors.ts): the same rules as the plugin's, which the
 * browser test (e2e/cors-browser.test.ts) checks on every other answer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { corsHeadersFor } from '../../src/http/cors';

const VIEWER = 'https://viewer.example.org';
const config = (origins: string[], credentials = false) => ({ origins, credentials, maxAgeSeconds: 600 });

test('no origins configured: no CORS headers at all', () => {
  assert.deepEqual(corsHeadersFor(config([]), { method: 'GET', origin: VIEWER }), {});
});

test('a configured origin is echoed, with Vary and the exposed headers; another gets only Vary', () => {
  const allowed = corsHeadersFor(config([VIEWER, 'http://localhost:3000']), { method: 'GET', origin: VIEWER });
  assert.equal(allowed['access-control-allow-origin'], VIEWER);
  assert.equal(allowed.vary, 'Origin');
  assert.match(allowed['access-control-expose-headers'], /\bWarning\b.*\bETag\b.*\bRetry-After\b/);
  assert.equal(allowed['access-control-allow-credentials'], undefined);
  assert.equal(allowed['access-control-allow-methods'], undefined, 'not a preflight');
  assert.deepEqual(corsHeadersFor(config([VIEWER]), { method: 'GET', origin: 'https://evil.example' }), { vary: 'Origin' });
  assert.deepEqual(corsHeadersFor(config([VIEWER]), { method: 'GET' }), { vary: 'Origin' });
});

test('"*" allows any origin without Vary; credentials add Allow-Credentials', () => {
  const any = corsHeadersFor(config(['*']), { method: 'GET', origin: 'https://anyone.example' });
  assert.equal(any['access-control-allow-origin'], '*');
  assert.equal(any.vary, undefined);
  assert.equal(corsHeadersFor(config([VIEWER], true), { method: 'GET', origin: VIEWER })['access-control-allow-credentials'], 'true');
});

test('a preflight gets methods, the requested headers and max-age; a bare OPTIONS does not', () => {
  const preflight = corsHeadersFor(config([VIEWER]), { method: 'OPTIONS', origin: VIEWER, requestMethod: 'POST', requestHeaders: 'authorization,content-type' });
  assert.match(preflight['access-control-allow-methods'], /\bGET\b.*\bPOST\b/);
  assert.equal(preflight['access-control-allow-headers'], 'authorization,content-type');
  assert.equal(preflight['access-control-max-age'], '600');
  assert.equal(preflight.vary, 'Origin, Access-Control-Request-Headers');
  assert.equal(corsHeadersFor(config([VIEWER]), { method: 'OPTIONS', origin: VIEWER })['access-control-allow-methods'], undefined);
  assert.equal(corsHeadersFor(config([VIEWER]), { method: 'OPTIONS', origin: 'https://evil.example', requestMethod: 'GET' })['access-control-allow-methods'], undefined);
});
