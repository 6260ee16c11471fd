/**
 * CORS as a browser viewer meets it (issue 13, point 3): a real headless chromium loads a page
 * from another origin (a static site on another port) and, with fetch() and a bearer token, as
 * OHIF does, searches, reads metadata (ETag readable), retrieves a frame, stores an instance and
 * reads the reasons of error answers (404, 401, 400, 414, 429), which a viewer can only show when the error
 * carries the CORS headers too. A page from an origin that is not configured is blocked by the
 * browser itself. The preflights are checked as the browser saw them and as the gateway answers
 * one sent from node (204 without a credential, origin echoed, methods and headers, max-age).
 *
 * The gateway runs with authentication required (JWTs from a local identity provider), so every
 * request from the page carries Authorization and is preflighted, and the preflight must be
 * answered before the credential check. Metadata with an ETag comes from a cached store (the
 * Google Cloud Healthcare fake): the embedded store answers without one.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { syntheticInstance, syntheticPixels } from '../fixtures/dicom-builder';
import { browserMissing, launchChromium, recordPreflights, SeenPreflight } from '../helpers/browser';
import { GcpSetup, startGcpGateway } from '../helpers/gcp-gateway';
import { HttpAnswer, send } from '../helpers/http-client';
import { startTestIdp, TestIdp } from '../helpers/jwks-server';
import { multipartBody } from '../helpers/multipart-body';
import { startStaticSite, StaticSite } from '../helpers/static-site';
import { RunningGateway, startInProcessGateway } from '../helpers/test-gateway';
import { splitMultipart } from '../helpers/wado-client';

const ROOT = '1.2.826.0.1.3680043.10.7844';
const STUDY = `${ROOT}.1`;
const SERIES = `${STUDY}.1`;
const SIZE = 16;
const MAX_AGE = '321';
const FRAMES_ACCEPT = 'multipart/related; type="application/octet-stream"';
const instance = (n: number) =>
  syntheticInstance({ seed: 7844 + n, rows: SIZE, columns: SIZE, studyUid: STUDY, seriesUid: SERIES, sopInstanceUid: `${SERIES}.${n}`, patientId: 'CORS-1', instanceNumber: n });

/** What a page's fetch() gave it: only what a script of that origin may read. */
interface PageAnswer {
  status: number;
  headers: Record<string, string>;
  bytes: number[];
  /** The rejection of fetch(), as "Name: message", when there was no answer to read. */
  failure?: string;
}

interface PageRequest {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  /** A path of the page's own site whose bytes are sent as the one part of a STOW body. */
  stowFileFrom?: string;
}

/**
 * Runs in the page (serialised by Playwright, so it must use nothing from this file): one fetch(),
 * the STOW body built as a browser viewer builds it, from bytes it fetched itself.
 */
async function fetchInPage(req: PageRequest): Promise<PageAnswer> {
  const headers: Record<string, string> = { ...req.headers };
  let body: Uint8Array | undefined;
  if (req.stowFileFrom) {
    const file = new Uint8Array(await (await fetch(req.stowFileFrom)).arrayBuffer());
    const boundary = 'viewer-boundary-5b1e';
    const head = new TextEncoder().encode(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`);
    const tail = new TextEncoder().encode(`\r\n--${boundary}--\r\n`);
    body = new Uint8Array(head.length + file.length + tail.length);
    body.set(head, 0);
    body.set(file, head.length);
    body.set(tail, head.length + file.length);
    headers['content-type'] = `multipart/related; type="application/dicom"; boundary=${boundary}`;
  }
  try {
    const res = await fetch(req.url, { method: req.method ?? 'GET', headers, body, mode: 'cors' });
    const readable: Record<string, string> = {};
    res.headers.forEach((value, name) => (readable[name] = value));
    return { status: res.status, headers: readable, bytes: Array.from(new Uint8Array(await res.arrayBuffer())) };
  } catch (e) {
    return { status: 0, headers: {}, bytes: [], failure: `${(e as Error).name}: ${(e as Error).message}` };
  }
}

const text = (a: PageAnswer) => Buffer.from(a.bytes).toString('utf8');
const json = (a: PageAnswer) => JSON.parse(text(a));
const uidsOf = (items: any[], tag: string) => items.map((item) => item[tag]?.Value?.[0]);

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('CORS in a real browser', { skip: browserMissing() }, () => {
  let idp: TestIdp;
  let viewer: StaticSite;
  let stranger: StaticSite;
  let setup: GcpSetup;
  let browser: Browser;
  let page: Page;
  let preflights: SeenPreflight[];
  let viewerToken: string;
  const gw = (path: string) => `${setup.gateway.baseUrl}${path}`;
  const asViewer = (req: PageRequest) => page.evaluate(fetchInPage, { ...req, headers: { authorization: `Bearer ${viewerToken}`, ...req.headers } });
  const preflightOf = (url: string) => until(`the preflight of ${url}`, () => preflights.find((p) => p.url === url && p.status !== undefined));

  before(async () => {
    idp = await startTestIdp();
    const html = { type: 'text/html; charset=utf-8', body: '<!doctype html><title>viewer</title><p>viewer' };
    viewer = await startStaticSite({ '/': html, '/instance.dcm': { type: 'application/dicom', body: instance(2) } });
    stranger = await startStaticSite({ '/': html });
    setup = await startGcpGateway({}, {
      env: {
        CORS_ORIGINS: `https://viewer.example.org,${viewer.origin}`,
        CORS_MAX_AGE_SECONDS: MAX_AGE,
        AUTH_MODE: 'required',
        AUTH_JWT_ISSUER: idp.issuer,
        AUTH_JWT_AUDIENCE: idp.audience,
        AUTH_JWT_JWKS_URL: idp.jwksUrl,
      },
    });
    viewerToken = await idp.sign({ sub: 'viewer-user', scope: 'dicomweb:read dicomweb:write' });
    // The study is there before the page opens: stored from node, into the embedded store and the cached one.
    const writer = await idp.sign({ sub: 'modality', scope: 'dicomweb:write' });
    const { body, contentType } = multipartBody([instance(1)]);
    for (const root of ['/dicomweb', '/stores/gcp/dicomweb']) {
      const stored = await send(gw(`${root}/studies`), { method: 'POST', headers: { authorization: `Bearer ${writer}`, 'content-type': contentType, accept: 'application/dicom+json' }, body });
      assert.equal(stored.status, 200, `${root}: ${stored.text()}`);
    }
    browser = await launchChromium();
    page = await browser.newPage();
    preflights = await recordPreflights(page);
    await page.goto(`${viewer.origin}/`);
  });

  after(async () => {
    await browser?.close();
    await setup?.close();
    await viewer?.close();
    await stranger?.close();
    await idp?.close();
  });

  test('the page searches the studies (QIDO), and the browser preflighted it', async () => {
    const url = gw('/dicomweb/studies?PatientID=CORS-1');
    const answer = await asViewer({ url, headers: { accept: 'application/dicom+json' } });
    assert.equal(answer.failure, undefined);
    assert.equal(answer.status, 200, text(answer));
    assert.deepEqual(uidsOf(json(answer), '0020000D'), [STUDY]);
    assert.equal(answer.headers['content-type'], 'application/dicom+json');

    const preflight = await preflightOf(url);
    assert.equal(preflight.requestHeaders['access-control-request-method'], 'GET');
    assert.equal(preflight.requestHeaders.origin, viewer.origin);
    assert.equal(preflight.requestHeaders.authorization, undefined, 'a preflight carries no credential');
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers!['access-control-allow-origin'], viewer.origin);
    assert.match(preflight.headers!['access-control-allow-methods'], /\bGET\b/);
    assert.match(preflight.headers!['access-control-allow-headers'], /\bauthorization\b/i);
    assert.equal(preflight.headers!['access-control-max-age'], MAX_AGE);
  });

  test('the page reads study metadata with a readable ETag, and revalidates it (304)', async () => {
    const url = gw(`/stores/gcp/dicomweb/studies/${STUDY}/metadata`);
    const answer = await asViewer({ url, headers: { accept: 'application/dicom+json' } });
    assert.equal(answer.status, 200, text(answer));
    assert.deepEqual(uidsOf(json(answer), '00080018'), [`${SERIES}.1`]);
    const etag = answer.headers.etag;
    assert.match(etag ?? '', /^(W\/)?".+"$/, 'ETag is exposed to the page');
    const again = await asViewer({ url, headers: { accept: 'application/dicom+json', 'if-none-match': etag } });
    assert.equal(again.status, 304);
    assert.equal(again.headers.etag, etag);
    // The embedded store's metadata is readable as well (it has no ETag: it is not cached).
    const local = await asViewer({ url: gw(`/dicomweb/studies/${STUDY}/metadata`) });
    assert.equal(local.status, 200, text(local));
    assert.deepEqual(uidsOf(json(local), '00080018'), [`${SERIES}.1`]);
  });

  test('the page retrieves a frame as an ArrayBuffer: the multipart body whole, the pixels exact', async () => {
    const url = gw(`/dicomweb/studies/${STUDY}/series/${SERIES}/instances/${SERIES}.1/frames/1`);
    const answer = await asViewer({ url, headers: { accept: FRAMES_ACCEPT } });
    assert.equal(answer.status, 200, text(answer));
    assert.match(answer.headers['content-type'], /^multipart\/related;.*boundary=/);
    if (answer.headers['content-length'] !== undefined) assert.equal(answer.bytes.length, Number(answer.headers['content-length']));
    const parts = await splitMultipart({ headers: { 'content-type': answer.headers['content-type'] }, body: Buffer.from(answer.bytes) } as HttpAnswer);
    assert.equal(parts.length, 1);
    assert.match(parts[0].contentType ?? '', /^application\/octet-stream/);
    assert.equal(parts[0].body.length, SIZE * SIZE * 2);
    assert.ok(parts[0].body.equals(syntheticPixels(SIZE * SIZE, 7844 + 1)), 'the frame is the stored pixels');
  });

  test('the page stores an instance (STOW with a multipart Uint8Array body)', async () => {
    const url = gw('/dicomweb/studies');
    const answer = await asViewer({ url, method: 'POST', headers: { accept: 'application/dicom+json' }, stowFileFrom: '/instance.dcm' });
    assert.equal(answer.failure, undefined);
    assert.equal(answer.status, 200, text(answer));
    assert.deepEqual(uidsOf(json(answer)['00081199'].Value, '00081155'), [`${SERIES}.2`]);
    const preflight = await preflightOf(url);
    assert.equal(preflight.requestHeaders['access-control-request-method'], 'POST');
    assert.match(preflight.requestHeaders['access-control-request-headers'], /authorization,content-type/);
    assert.equal(preflight.headers!['access-control-allow-origin'], viewer.origin);
    assert.match(preflight.headers!['access-control-allow-methods'], /\bPOST\b/);
    assert.match(preflight.headers!['access-control-allow-headers'], /content-type/i);
    // Stored for real: node sees both instances.
    const reader = await idp.sign({ scope: 'dicomweb:read' });
    const listed = await send(gw(`/dicomweb/studies/${STUDY}/instances`), { headers: { authorization: `Bearer ${reader}`, accept: 'application/dicom+json' } });
    assert.deepEqual(uidsOf(listed.json(), '00080018').sort(), [`${SERIES}.1`, `${SERIES}.2`]);
  });

  test('error answers carry the CORS headers: the page reads the 404, 401, 400 and 414 reasons', async () => {
    const missing = await asViewer({ url: gw(`/dicomweb/studies/${ROOT}.999/metadata`), headers: { accept: 'application/dicom+json' } });
    assert.equal(missing.failure, undefined);
    assert.equal(missing.status, 404);
    assert.match(missing.headers.warning ?? '', /^299 - ".*not stored here.*"$/);
    assert.equal(json(missing).status, 404);
    assert.match(json(missing).message, /not stored here/);

    const refused = await page.evaluate(fetchInPage, { url: gw('/dicomweb/studies'), headers: { authorization: 'Bearer not-a-token' } });
    assert.equal(refused.failure, undefined);
    assert.equal(refused.status, 401);
    assert.match(refused.headers['www-authenticate'] ?? '', /^Bearer /);
    assert.match(refused.headers.warning ?? '', /^299 - /);
    assert.equal(json(refused).status, 401);

    // URLs Fastify itself refuses (not valid percent-encoding, a segment too long), before any hook has run.
    const malformed = await asViewer({ url: gw('/dicomweb/studies/1.2.%E0%A4%A/metadata') });
    assert.equal(malformed.failure, undefined);
    assert.equal(malformed.status, 400);
    assert.match(malformed.headers.warning ?? '', /^299 - ".*percent-encoding.*"$/);
    assert.equal(json(malformed).status, 400);
    const tooLong = await asViewer({ url: gw(`/stores/${'x'.repeat(2000)}/dicomweb/studies`) });
    assert.equal(tooLong.status, 414, tooLong.failure);
    assert.match(tooLong.headers.warning ?? '', /^299 - ".*too long.*"$/);
  });

  test('a page from an origin not in the list is blocked by the browser', async () => {
    const other = await browser.newPage();
    try {
      await other.goto(`${stranger.origin}/`);
      const preflighted = await other.evaluate(fetchInPage, { url: gw('/dicomweb/studies'), headers: { authorization: `Bearer ${viewerToken}` } });
      assert.match(preflighted.failure ?? 'no failure', /^TypeError: /);
      // A simple request (no preflight) reaches the gateway, but its answer is not for this page.
      const simple = await other.evaluate(fetchInPage, { url: gw('/dicomweb/studies') });
      assert.match(simple.failure ?? 'no failure', /^TypeError: /);
    } finally {
      await other.close();
    }
  });

  test('the preflight from node: 204 without a credential, origin echoed, methods, headers and max-age', async () => {
    const preflight = (origin: string) =>
      send(gw(`/dicomweb/studies/${STUDY}/series/${SERIES}/instances/${SERIES}.1/frames/1`), {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization,accept' },
      });
    const allowed = await preflight(viewer.origin);
    assert.equal(allowed.status, 204);
    assert.equal(allowed.body.length, 0);
    assert.equal(allowed.headers['access-control-allow-origin'], viewer.origin);
    assert.match(String(allowed.headers.vary), /\bOrigin\b/);
    const methods = String(allowed.headers['access-control-allow-methods']).split(/,\s*/);
    for (const m of ['GET', 'HEAD', 'POST']) assert.ok(methods.includes(m), `${m} in ${methods}`);
    assert.match(String(allowed.headers['access-control-allow-headers']), /authorization,\s*accept/i);
    assert.equal(allowed.headers['access-control-max-age'], MAX_AGE);
    assert.equal(allowed.headers['access-control-allow-credentials'], undefined, 'credentials are off by default');
    // The other configured origin is echoed as well; an unknown one gets no Allow-Origin.
    assert.equal((await preflight('https://viewer.example.org')).headers['access-control-allow-origin'], 'https://viewer.example.org');
    assert.equal((await preflight(stranger.origin)).headers['access-control-allow-origin'], undefined);
  });
});

describe('CORS in a real browser: 429 is readable', { skip: browserMissing() }, () => {
  let site: StaticSite;
  let gateway: RunningGateway;
  let browser: Browser;

  before(async () => {
    site = await startStaticSite({ '/': { type: 'text/html', body: '<!doctype html><title>viewer</title>' } });
    gateway = await startInProcessGateway({ CORS_ORIGINS: site.origin, RATE_LIMIT_PER_MINUTE: '1', RATE_LIMIT_BURST: '1' });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await gateway?.stop();
    await site?.close();
  });

  test('past the rate limit the page reads 429, its Retry-After and its reason', async () => {
    const page = await browser.newPage();
    await page.goto(`${site.origin}/`);
    const search = { url: `${gateway.baseUrl}/dicomweb/studies`, headers: { accept: 'application/dicom+json', 'x-priority': 'ROUTINE' } };
    const first = await page.evaluate(fetchInPage, search);
    assert.equal(first.status, 200, text(first));
    const second = await page.evaluate(fetchInPage, search);
    assert.equal(second.failure, undefined);
    assert.equal(second.status, 429);
    assert.match(second.headers['retry-after'] ?? '', /^\d+$/);
    assert.ok(Number(second.headers['retry-after']) >= 1);
    assert.match(second.headers.warning ?? '', /^299 - ".*requests per minute.*"$/);
  });
});
