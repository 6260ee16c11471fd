/**
 * The dicomweb store's HTTP client against a scripted local server: retries with backoff for GETs
 * only, the circuit breaker, a fresh OAuth2 token after a 401, time limits, and the typed errors
 * (503 unreachable, 504 slow, 502 failing) every failure becomes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { DicomwebStoreConfig, DICOMWEB_DEFAULTS } from '../../src/config/store-config';
import { headerAuthorizer } from '../../src/stores/dicomweb/request-authorizer';
import { PausedUpstream, UpstreamClient } from '../../src/stores/dicomweb/upstream-client';
import { UpstreamError, UpstreamTimeout, UpstreamUnavailable } from '../../src/stores/store-errors';
import { freePort } from '../helpers/free-port';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

describe('UpstreamClient', () => {
  let server: Server;
  let base: string;
  let handler: Handler = (_req, res) => res.end('[]');
  const seen: { method: string; url: string; authorization?: string }[] = [];
  const clients: UpstreamClient[] = [];

  const client = (overrides: Partial<DicomwebStoreConfig> = {}) => {
    const { auth, ...config } = {
      name: 'fake',
      kind: 'dicomweb',
      url: `${base}/dicom-web`,
      auth: { type: 'none' },
      ...DICOMWEB_DEFAULTS,
      timeouts: { connectMs: 500, firstByteMs: 300, idleMs: 300 },
      retries: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
      circuitBreaker: { failureThreshold: 50, openMs: 1000 },
      ...overrides,
    } as DicomwebStoreConfig;
    const c = new UpstreamClient({ ...config, authorizer: headerAuthorizer(auth) });
    clients.push(c);
    return c;
  };
  const get = (c: UpstreamClient, path = '/studies') => c.send({ method: 'GET', path, what: 'test', headers: { accept: 'application/dicom+json' } });

  before(async () => {
    server = createServer((req, res) => {
      seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization });
      req.resume();
      handler(req, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    server.closeAllConnections();
    server.close();
  });

  test('a GET answered 503 is tried again (three tries in all), then 503 with the Retry-After given', async () => {
    seen.length = 0;
    handler = (_req, res) => res.writeHead(503, { 'retry-after': '7' }).end('{"Message":"busy"}');
    await assert.rejects(get(client()), (e) => e instanceof UpstreamUnavailable && e.retryAfterSeconds === 7 && /answered 503: busy/.test(e.message));
    assert.equal(seen.length, 3);
    let calls = 0;
    handler = (_req, res) => (++calls < 2 ? res.writeHead(502).end() : res.end('[]'));
    const ok = await get(client());
    assert.equal(ok.status, 200);
    assert.equal(await ok.body.text(), '[]');
  });

  test('a POST is never tried twice; a 500 is not retried either', async () => {
    seen.length = 0;
    handler = (_req, res) => res.writeHead(503).end();
    await assert.rejects(client().send({ method: 'POST', path: '/studies', what: 'store', body: () => Readable.from([Buffer.from('x')]) }), UpstreamUnavailable);
    assert.equal(seen.length, 1);
    seen.length = 0;
    handler = (_req, res) => res.writeHead(500).end('{"Message":"Not implemented yet"}');
    await assert.rejects(get(client()), (e) => e instanceof UpstreamError && e.upstreamStatus === 500);
    assert.equal(seen.length, 1);
  });

  test('4xx answers are handed back, not thrown', async () => {
    handler = (_req, res) => res.writeHead(404).end('{}');
    const r = await get(client());
    assert.equal(r.status, 404);
    await r.body.text();
  });

  test('no first byte in time: 504, not retried', async () => {
    seen.length = 0;
    handler = () => undefined; // never answers
    const t0 = Date.now();
    await assert.rejects(get(client()), (e) => e instanceof UpstreamTimeout && /no answer within 300 ms/.test(e.message));
    assert.equal(seen.length, 1);
    assert.ok(Date.now() - t0 < 2000);
  });

  test('nothing listening: 503 with a Retry-After, after the retries', async () => {
    const c = new UpstreamClient({
      name: 'down',
      url: `http://127.0.0.1:${await freePort()}/dicom-web`,
      authorizer: headerAuthorizer({ type: 'none' }),
      ...DICOMWEB_DEFAULTS,
      retries: { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
    });
    clients.push(c);
    await assert.rejects(get(c), (e) => e instanceof UpstreamUnavailable && /cannot be reached \(ECONNREFUSED\)/.test(e.message) && e.retryAfterSeconds! >= 1);
  });

  test('the circuit opens after consecutive failures: later calls fail at once, without a request', async () => {
    seen.length = 0;
    handler = (_req, res) => res.writeHead(500).end();
    const c = client({ circuitBreaker: { failureThreshold: 2, openMs: 60_000 } });
    await assert.rejects(get(c), UpstreamError);
    await assert.rejects(get(c), UpstreamError);
    assert.equal(c.breaker.state, 'open');
    await assert.rejects(get(c), (e) => e instanceof PausedUpstream && e.retryAfterSeconds! > 50);
    assert.equal(seen.length, 2, 'the open circuit made no request');
    assert.match(c.last!.detail!, /answered 500/);
  });

  test('OAuth2: a 401 fetches a new token and tries once more; a second 401 is 502, not 401', async () => {
    let issued = 0;
    const tokenServer = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: `tok${++issued}`, expires_in: 3600 })));
    });
    await new Promise<void>((r) => tokenServer.listen(0, '127.0.0.1', () => r()));
    try {
      const tokenUrl = `http://127.0.0.1:${(tokenServer.address() as AddressInfo).port}/token`;
      const c = client({ auth: { type: 'oauth2', tokenUrl, clientId: 'gw', clientSecret: 'secret' } });
      seen.length = 0;
      handler = (req, res) => (req.headers.authorization === 'Bearer tok2' ? res.end('[]') : res.writeHead(401).end());
      const r = await get(c);
      assert.equal(r.status, 200);
      await r.body.text();
      assert.deepEqual(seen.map((s) => s.authorization), ['Bearer tok1', 'Bearer tok2']);
      handler = (_req, res) => res.writeHead(401).end();
      await assert.rejects(get(c), (e) => e instanceof UpstreamError && /refused the gateway's credentials \(401\)/.test(e.message));
    } finally {
      tokenServer.close();
    }
  });

  test('basic credentials are sent; the DICOMweb root path of the URL is kept', async () => {
    seen.length = 0;
    handler = (_req, res) => res.end('[]');
    const r = await get(client({ auth: { type: 'basic', username: 'gw', password: 'pw' } }), '/studies?limit=1');
    await r.body.text();
    assert.equal(seen[0].authorization, `Basic ${Buffer.from('gw:pw').toString('base64')}`);
    assert.equal(seen[0].url, '/dicom-web/studies?limit=1');
  });
});
