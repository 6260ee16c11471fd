/**
 * The OpenAPI document on its own: it loads, every $ref points at something, every path parameter
 * is declared (and nothing else is), patterns are valid ECMAScript regular expressions and agree
 * with the gateway's own UID check, no value was lost to a YAML slip (an unquoted ", " in a flow
 * mapping makes a key of the rest and a null of its value). And the loader's refusals, and the
 * /docs page's escaping.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isValidUid } from '../../src/dicom/uid';
import { escapeHtml, renderDocsPage } from '../../src/ops/docs-page';
import { accessOf, HTTP_METHODS, loadOpenApiDocument, OpenApiDocumentInvalid, parseOpenApiDocument } from '../../src/ops/openapi-document';
import { makeTempDir } from '../helpers/temp-dir';

type Json = Record<string, any>;

function resolvePointer(doc: Json, ref: string): unknown {
  assert.ok(ref.startsWith('#/'), `${ref}: only local references are used`);
  return ref
    .slice(2)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<any>((node, key) => (node === undefined ? undefined : node[key]), doc);
}

function* walk(node: unknown, at: string): Generator<[string, unknown, string]> {
  if (node === null || typeof node !== 'object') return;
  for (const [key, value] of Object.entries(node)) {
    yield [key, value, `${at}/${key}`];
    yield* walk(value, `${at}/${key}`);
  }
}

const deref = (doc: Json, node: Json): Json => (node && typeof node.$ref === 'string' ? (resolvePointer(doc, node.$ref) as Json) : node);

describe('openapi/openapi.yaml', () => {
  const loaded = loadOpenApiDocument();
  const doc: Json = JSON.parse(loaded.json);

  test('loads as OpenAPI 3.1 with operations', () => {
    assert.equal(doc.openapi, '3.1.0');
    assert.ok(loaded.operations.length >= 60, `${loaded.operations.length} operations`);
  });

  test('every $ref resolves', () => {
    for (const [key, value, at] of walk(doc, '#')) {
      if (key === '$ref') assert.notEqual(resolvePointer(doc, value as string), undefined, `${at}: ${value} points at nothing`);
    }
  });

  test('no value is null (a YAML slip in a flow mapping)', () => {
    for (const [, value, at] of walk(doc, '#')) assert.notEqual(value, null, `${at} is null`);
  });

  test('every pattern compiles, and the UID pattern agrees with isValidUid', () => {
    for (const [key, value, at] of walk(doc, '#')) {
      if (key === 'pattern' && typeof value === 'string') assert.doesNotThrow(() => new RegExp(value, 'u'), `${at}`);
    }
    const uid = doc.components.schemas.Uid;
    const matches = (v: string) => new RegExp(uid.pattern, 'u').test(v) && v.length <= uid.maxLength;
    for (const v of ['1.2.3', '0.1', '1.2.840.10008.5.1.4.1.1.2', `1.${'2'.repeat(62)}`, '01.2', '1..2', '1.2.', 'a.1', '', `1.${'2'.repeat(63)}`]) {
      assert.equal(matches(v), isValidUid(v), v);
    }
  });

  test('every path parameter is declared, and only those', () => {
    for (const [path, item] of Object.entries<Json>(doc.paths)) {
      const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
      for (const method of HTTP_METHODS) {
        if (!item[method]) continue;
        const declared = [...(item.parameters ?? []), ...(item[method].parameters ?? [])]
          .map((p: Json) => deref(doc, p))
          .filter((p: Json) => p.in === 'path');
        assert.deepEqual(declared.map((p: Json) => p.name).sort(), inPath, `${method.toUpperCase()} ${path}`);
        for (const p of declared) assert.equal(p.required, true, `${method.toUpperCase()} ${path}: {${p.name}} must be required`);
      }
    }
  });

  test('response keys are status codes, every error response carries the reason', () => {
    for (const [path, item] of Object.entries<Json>(doc.paths)) {
      for (const method of HTTP_METHODS) {
        for (const [status, response] of Object.entries<Json>(item[method]?.responses ?? {})) {
          assert.match(status, /^[1-5][0-9][0-9]$/, `${method} ${path}`);
          const r = deref(doc, response);
          assert.ok(typeof r.description === 'string' && r.description !== '', `${method} ${path} ${status}: no description`);
          if (Number(status) >= 400) assert.ok(r.content, `${method} ${path} ${status}: no body described`);
        }
      }
    }
  });
});

describe('loading the document', () => {
  const dir = makeTempDir('openapi-unit');
  const file = (name: string, text: string) => {
    const path = join(dir.path, name);
    writeFileSync(path, text);
    return path;
  };
  after(() => dir.remove());
  const minimal = 'openapi: 3.1.0\ninfo: { title: T, version: "1" }\npaths:\n  /a:\n    get: { summary: A, security: [], responses: { "200": { description: ok } } }\n';

  test('a missing file stops the start with its path', () => {
    const path = join(dir.path, 'nope.yaml');
    assert.throws(() => loadOpenApiDocument(path), (e: Error) => e instanceof OpenApiDocumentInvalid && e.message.includes(path) && /missing/.test(e.message));
  });

  test('broken YAML, a document that is not OpenAPI 3, an operation without summary or responses', () => {
    const cases: [string, RegExp][] = [
      ['openapi: 3.1.0\npaths: {\n', /not valid YAML/],
      ['openapi: 3.1.0\ninfo: { title: T, version: "1" }\ninfo: { title: U, version: "2" }\npaths: {}\n', /not valid YAML/],
      ['swagger: "2.0"\ninfo: { title: T, version: "1" }\npaths: {}\n', /"openapi" must be 3/],
      ['openapi: 3.1.0\npaths: {}\n', /"info" needs a title/],
      ['openapi: 3.1.0\ninfo: { title: T, version: "1" }\n', /"paths" is missing/],
      [minimal.replace('summary: A, ', ''), /GET \/a has no summary/],
      [minimal.replace('responses: { "200": { description: ok } }', 'responses: {}'), /GET \/a has no responses/],
    ];
    for (const [text, message] of cases) {
      assert.throws(() => loadOpenApiDocument(file('bad.yaml', text)), (e: Error) => e instanceof OpenApiDocumentInvalid && message.test(e.message), text);
    }
  });

  test('the operations say what access they need', () => {
    assert.equal(accessOf([]), 'public');
    assert.equal(accessOf(undefined), 'public');
    assert.equal(accessOf([{ bearerAuth: [] }, { apiKey: [] }]), 'any valid credential');
    assert.equal(accessOf([{ bearerAuth: ['dicomweb:read'] }, { bearerAuth: ['dicomweb:read:{store}'] }, { apiKey: ['dicomweb:read'] }]), 'dicomweb:read or dicomweb:read:{store}');
    assert.equal(accessOf([{}, { bearerAuth: ['dicomweb:admin'] }]), 'public (configurable: dicomweb:admin)');
  });
});

describe('the /docs page', () => {
  test('escapes everything taken from the document', () => {
    assert.equal(escapeHtml(`<a href="x" onclick='y'>&</a>`), '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
    const hostile = `openapi: 3.1.0
info: { title: "<script>alert(1)</script>", version: "1\\"><img src=x>", description: "</div><script>x()</script>" }
tags: [{ name: "<b>tag</b>" }]
paths:
  "/a/{x}<svg onload=1>":
    get: { tags: ["<i>t</i>"], summary: "<script>s()</script>", security: [{ apiKey: ["<scope>"] }], responses: { "200": { description: ok } } }
`;
    const html = renderDocsPage(parseOpenApiDocument(hostile, 'hostile.yaml'));
    assert.doesNotMatch(html, /<script|<img|<svg|<b>|<i>|<scope>/);
    assert.match(html, /&lt;script&gt;s\(\)&lt;\/script&gt;/);
    assert.match(html, /&lt;scope&gt;/);
  });

  test('lists every operation of the real document, with method, path, summary and access', () => {
    const loaded = loadOpenApiDocument();
    const html = renderDocsPage(loaded);
    for (const op of loaded.operations) {
      assert.ok(html.includes(`<code>${escapeHtml(op.path)}</code>`), op.path);
      assert.ok(html.includes(escapeHtml(op.access)), `${op.method} ${op.path}: ${op.access}`);
    }
  });
});
