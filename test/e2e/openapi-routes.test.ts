/**
 * The OpenAPI document (openapi/openapi.yaml) and the app agree: every (method, path) Fastify
 * registers is documented and every documented one is registered (HEAD and OPTIONS, which Fastify
 * and CORS add by themselves, aside); each operation's security says what route-access.ts
 * enforces; and /docs, /docs/openapi.yaml and /docs/openapi.json answer without a credential.
 *
 * Routes are collected with an onRoute hook added to the Fastify instance after the app is
 * created and before Nest registers its routes (at listen), and checked again one by one with
 * Fastify's own hasRoute, so neither list depends on parsing printRoutes' drawing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { parse } from 'yaml';
import { routeAccess } from '../../src/auth/route-access';
import { createGateway } from '../../src/bootstrap';
import { loadConfig } from '../../src/config/load-config';
import { escapeHtml } from '../../src/ops/docs-page';
import { HTTP_METHODS, OPENAPI_DOCUMENT_PATH } from '../../src/ops/openapi-document';
import { send } from '../helpers/http-client';
import { makeTempDir } from '../helpers/temp-dir';

/** Added by Fastify (HEAD for every GET) and by CORS (OPTIONS *): not operations of ours. */
const IMPLICIT_METHODS = new Set(['HEAD', 'OPTIONS']);
const SCHEMES = ['bearerAuth', 'apiKey'];
const PREFIX = 'dicomweb:';

type Json = Record<string, any>;

/** "/stores/:store/dicomweb/studies/:study/.../bulkdata/*" -> the document's "{store}", "{path}" form. */
function documentPathOf(fastifyUrl: string): string {
  const path = fastifyUrl.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\/\*$/, '/{path}');
  assert.ok(!path.includes('*') && !path.includes(':'), `route ${fastifyUrl}: a wildcard or parameter the document form does not know`);
  return path;
}

/** The reverse, for Fastify's hasRoute. */
function fastifyUrlOf(documentPath: string): string {
  return documentPath.replace(/\/\{path\}$/, '/*').replace(/\{([A-Za-z0-9_]+)\}/g, ':$1');
}

function routeDifferences(registered: Iterable<string>, documented: Iterable<string>): { undocumented: string[]; unregistered: string[] } {
  const r = new Set([...registered].filter((key) => !IMPLICIT_METHODS.has(key.split(' ')[0])));
  const d = new Set(documented);
  return { undocumented: [...r].filter((k) => !d.has(k)).sort(), unregistered: [...d].filter((k) => !r.has(k)).sort() };
}

function documentedOperations(doc: Json): { key: string; method: string; path: string; operation: Json }[] {
  const out = [];
  for (const [path, item] of Object.entries<Json>(doc.paths)) {
    for (const method of HTTP_METHODS) {
      if (item[method]) out.push({ key: `${method.toUpperCase()} ${path}`, method: method.toUpperCase(), path, operation: item[method] });
    }
  }
  return out;
}

/** Security Requirements as comparable strings: "anonymous", "apiKey:", "bearerAuth:dicomweb:read". */
function requirementsOf(security: unknown): Set<string> {
  const out = new Set<string>();
  for (const requirement of security as Json[]) {
    const entries = Object.entries<string[]>(requirement);
    if (entries.length === 0) out.add('anonymous');
    for (const [scheme, scopes] of entries) out.add(`${scheme}:${scopes.join(' ')}`);
  }
  return out;
}

/** What route-access.ts enforces on a route, as requirements (both settings of publicMetrics). */
function expectedRequirements(method: string, fastifyUrl: string): Set<string> {
  const out = new Set<string>();
  let everPublic = false;
  for (const publicMetrics of [true, false]) {
    const access = routeAccess(method, fastifyUrl, {}, {}, 'default', publicMetrics);
    const scopes: string[] = [];
    if (access.kind === 'public') everPublic = true;
    else if (access.kind === 'authenticated') scopes.push('');
    else if (access.kind === 'admin') scopes.push(`${PREFIX}admin`);
    else {
      scopes.push(`${PREFIX}${access.permission}`, `${PREFIX}${access.permission}:{store}`);
      if (access.orAdmin) scopes.push(`${PREFIX}admin`);
    }
    for (const scheme of SCHEMES) for (const scope of scopes) out.add(`${scheme}:${scope}`);
  }
  // Public only: no requirement at all (`security: []`); public by a setting: anonymous is one way in.
  if (everPublic && out.size > 0) out.add('anonymous');
  return out;
}

describe('the OpenAPI document and the registered routes', () => {
  const dir = makeTempDir('openapi');
  const fileText = readFileSync(OPENAPI_DOCUMENT_PATH, 'utf8');
  const doc: Json = parse(fileText);
  const registered = new Set<string>();
  let app: NestFastifyApplication;
  let baseUrl: string;

  before(async () => {
    // Authentication required, so that "answers without a credential" means something; CORS on, so
    // that its OPTIONS route is there to be told apart.
    const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', DATA_DIR: dir.path, LOG_LEVEL: 'error', AUTH_MODE: 'required', CORS_ORIGINS: '*' });
    app = await createGateway(config);
    app.getHttpAdapter().getInstance().addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) registered.add(`${method} ${route.url}`);
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.getHttpServer().address();
    baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });

  after(async () => {
    await app?.close();
    dir.remove();
  });

  test('the collected routes are the whole app (the hook saw Nest register them)', () => {
    assert.ok(registered.has('GET /dicomweb/studies'), [...registered].join('\n'));
    assert.ok(registered.has('GET /docs'));
    assert.ok(registered.has('HEAD /dicomweb/studies'), 'Fastify adds HEAD routes: the hook sees implicit routes too');
    assert.ok(registered.size > 100, `only ${registered.size} routes seen`);
  });

  test('every registered route is documented, and every documented one is registered', () => {
    const documented = documentedOperations(doc).map((o) => o.key);
    const actual = [...registered]
      .map((key) => key.split(' '))
      .filter(([method]) => !IMPLICIT_METHODS.has(method))
      .map(([method, url]) => `${method} ${documentPathOf(url)}`);
    const { undocumented, unregistered } = routeDifferences(actual, documented);
    assert.deepEqual(undocumented, [], `registered but not in openapi/openapi.yaml:\n${undocumented.join('\n')}`);
    assert.deepEqual(unregistered, [], `in openapi/openapi.yaml but not registered:\n${unregistered.join('\n')}`);
    assert.equal(new Set(documented).size, documented.length);
  });

  test("Fastify's router knows every documented operation", () => {
    const fastify = app.getHttpAdapter().getInstance();
    for (const { method, path } of documentedOperations(doc)) {
      assert.ok(fastify.hasRoute({ method: method as 'GET', url: fastifyUrlOf(path) }), `${method} ${path} (${fastifyUrlOf(path)}) is not a route`);
    }
  });

  test('the comparison reports a route added without documentation, and a documented one that is gone', () => {
    const documented = ['GET /a', 'POST /a'];
    assert.deepEqual(routeDifferences(['GET /a', 'HEAD /a', 'POST /a', 'OPTIONS *', 'GET /new/{id}'], documented), { undocumented: ['GET /new/{id}'], unregistered: [] });
    assert.deepEqual(routeDifferences(['GET /a', 'HEAD /a'], documented), { undocumented: [], unregistered: ['POST /a'] });
    assert.equal(documentPathOf('/stores/:store/dicomweb/studies/:study/series/:series/instances/:instance/bulkdata/*'), '/stores/{store}/dicomweb/studies/{study}/series/{series}/instances/{instance}/bulkdata/{path}');
  });

  test('every operation has a summary, responses, and the security that route-access.ts enforces', () => {
    for (const { key, method, path, operation } of documentedOperations(doc)) {
      assert.ok(typeof operation.summary === 'string' && operation.summary.trim() !== '', `${key}: no summary`);
      assert.ok(operation.responses && Object.keys(operation.responses).length > 0, `${key}: no responses`);
      assert.ok(Array.isArray(operation.security), `${key}: no security (public operations say security: [])`);
      const expected = expectedRequirements(method, fastifyUrlOf(path));
      assert.deepEqual([...requirementsOf(operation.security)].sort(), [...expected].sort(), `${key}: security`);
      if (expected.size > 0) {
        assert.ok(operation.responses['401'], `${key}: needs a credential but documents no 401`);
        if (!expected.has(`bearerAuth:`)) assert.ok(operation.responses['403'], `${key}: needs a scope but documents no 403`);
      }
    }
  });

  test('every security scheme an operation names is defined', () => {
    const defined = Object.keys(doc.components.securitySchemes);
    assert.deepEqual(defined.sort(), [...SCHEMES].sort());
    assert.equal(doc.components.securitySchemes.apiKey.name, 'X-API-Key');
    assert.equal(doc.components.securitySchemes.bearerAuth.scheme, 'bearer');
  });

  test('/docs, /docs/openapi.yaml and /docs/openapi.json answer without a credential', async () => {
    const refused = await send(`${baseUrl}/api/stores`);
    assert.equal(refused.status, 401, 'authentication is on in this test');

    const yaml = await send(`${baseUrl}/docs/openapi.yaml`);
    assert.equal(yaml.status, 200);
    assert.match(String(yaml.headers['content-type']), /^application\/yaml/);
    assert.equal(yaml.text(), fileText);

    const json = await send(`${baseUrl}/docs/openapi.json`);
    assert.equal(json.status, 200);
    assert.match(String(json.headers['content-type']), /^application\/json/);
    assert.deepEqual(json.json(), parse(yaml.text()));

    const page = await send(`${baseUrl}/docs`);
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(String(page.headers['content-security-policy']), /default-src 'none'/);
    const html = page.text();
    assert.doesNotMatch(html, /<script|\bsrc=|https?:\/\//i, 'self-contained: no script, nothing fetched');
    assert.match(html, /href="docs\/openapi\.yaml"/);
    assert.match(html, /href="docs\/openapi\.json"/);
    for (const { method, path, operation } of documentedOperations(doc)) {
      assert.ok(html.includes(`<code>${escapeHtml(path)}</code>`), `${method} ${path} is not on the page`);
      assert.ok(html.includes(escapeHtml(operation.summary)), `${method} ${path}: its summary is not on the page`);
    }
    assert.match(html, /dicomweb:admin/);
  });
});
