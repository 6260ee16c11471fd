/**
 * Logs and request ids (issue 13, points 2 and 5): every line the gateway writes is one JSON object
 * with time, level, context and msg, and the request id while a request (or a job it caused) is
 * handled; the id is the client's safe `x-request-id` or a new one, echoed as `X-Request-Id`, sent
 * to upstream stores and carried into forwarding jobs; patient data never reaches the log, even
 * at the most verbose level; LOG_FORMAT=text writes one readable line per entry.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createGateway } from '../../src/bootstrap';
import { loadConfig } from '../../src/config/load-config';
import { syntheticInstance } from '../fixtures/dicom-builder';
import { send } from '../helpers/http-client';
import { multipartBody } from '../helpers/multipart-body';
import { deleteRedisKeys, TEST_REDIS_URL, uniqueRedisPrefix } from '../helpers/redis-keys';
import { makeTempDir } from '../helpers/temp-dir';
import { GatewayProcess, startGatewayProcess } from '../helpers/test-gateway';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const STUDY = '1.2.826.0.1.3680043.10.7913.1';
const SOP_CLASS = '1.2.840.10008.5.1.4.1.1.2';

/** Patient data that must never be written to the log (distinctive, so a match cannot be chance). */
const PHI = { name: 'Quixotl^Zebedee', id: 'PHI-ID-58213', birthDate: '19310817', accession: 'ACCX77123' };

type Entry = Record<string, unknown> & { time: string; level: string; msg: string; context?: string; requestId?: string };

function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const look = () => {
      if (check()) resolve();
      else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(look, 25);
    };
    look();
  });
}

/** An in-process gateway whose log lines are kept. */
async function startCapturing(env: Record<string, string>): Promise<{ app: NestFastifyApplication; baseUrl: string; lines: string[]; entries(): Entry[]; stop(): Promise<void> }> {
  const lines: string[] = [];
  const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', ...env });
  const app = await createGateway(config, { logDestination: { write: (line: string) => lines.push(line) } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.getHttpServer().address() as AddressInfo;
  return {
    app,
    baseUrl: `http://127.0.0.1:${port}`,
    lines,
    entries: () => lines.map((l) => JSON.parse(l) as Entry),
    stop: () => app.close(),
  };
}

interface SeenRequest {
  method: string;
  url: string;
  requestId?: string;
}

/** A tiny DICOMweb upstream: QIDO answers [], the first STOW is not confirmed, later ones are.
 *  It also takes webhooks at /hooks: the first fails (500), later ones are accepted. */
async function startFakeUpstream(sop: string): Promise<{ url: string; seen: SeenRequest[]; close(): Promise<void> }> {
  const seen: SeenRequest[] = [];
  let stows = 0;
  let hooks = 0;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      const id = req.headers['x-request-id'];
      seen.push({ method: req.method ?? '', url: req.url ?? '', requestId: typeof id === 'string' ? id : undefined });
      res.setHeader('content-type', 'application/dicom+json');
      if (req.url === '/hooks') {
        res.statusCode = ++hooks > 1 ? 204 : 500;
        res.end();
      } else if (req.method === 'POST') {
        const confirmed = ++stows > 1;
        const referenced = { '00081199': { vr: 'SQ', Value: [{ '00081150': { vr: 'UI', Value: [SOP_CLASS] }, '00081155': { vr: 'UI', Value: [sop] } }] } };
        res.end(JSON.stringify(confirmed ? referenced : {}));
      } else if ((req.url ?? '').includes('00100010=')) {
        // An upstream that quotes the query back in its error message.
        res.statusCode = 400;
        res.end(JSON.stringify({ Message: `no patient named ${new URL(req.url ?? '', 'http://upstream').searchParams.get('00100010')}` }));
      } else if (/\/studies(\?|$)/.test(req.url ?? '')) {
        res.end('[]');
      } else {
        res.statusCode = 404;
        res.end('{}');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/dicom-web`, seen, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('JSON logs of a real gateway process', () => {
  const dir = makeTempDir('logging');
  let gateway: GatewayProcess;
  before(async () => {
    gateway = await startGatewayProcess(dir.path, { LOG_LEVEL: 'trace' });
  });
  after(async () => {
    await gateway?.kill('SIGKILL');
    dir.remove();
  });

  test('STOW and QIDO with patient data: ids echoed, every line JSON with the request id, no patient data in the log', async () => {
    const sop = `${STUDY}.1.1`;
    const file = syntheticInstance({ studyUid: STUDY, seriesUid: `${STUDY}.1`, sopInstanceUid: sop, patientName: PHI.name, patientId: PHI.id, patientBirthDate: PHI.birthDate, accessionNumber: PHI.accession });
    const { body, contentType } = multipartBody([file]);
    const stored = await send(`${gateway.baseUrl}/dicomweb/studies`, { method: 'POST', headers: { 'content-type': contentType, 'x-request-id': 'stow-7f3a' }, body });
    assert.equal(stored.status, 200, stored.text());
    assert.equal(stored.headers['x-request-id'], 'stow-7f3a');

    const query = new URLSearchParams({ PatientName: PHI.name, PatientID: PHI.id, PatientBirthDate: PHI.birthDate, AccessionNumber: PHI.accession, includefield: 'all' });
    const found = await send(`${gateway.baseUrl}/dicomweb/studies?${query}`, { headers: { 'x-request-id': 'qido.b51' } });
    assert.equal(found.status, 200, found.text());
    assert.equal(found.json<unknown[]>().length, 1);
    assert.equal(found.headers['x-request-id'], 'qido.b51');
    // A client mistake that quotes patient data back to the client (its own), not to the log.
    const refused = await send(`${gateway.baseUrl}/dicomweb/studies?PatientBirthDate=${PHI.birthDate}x&PatientID=${PHI.id}`, { headers: { 'x-request-id': 'bad-query' } });
    assert.equal(refused.status, 400);
    assert.equal(refused.headers['x-request-id'], 'bad-query');
    const metadata = await send(`${gateway.baseUrl}/dicomweb/studies/${STUDY}/metadata`);
    assert.equal(metadata.status, 200);
    assert.match(String(metadata.headers['x-request-id']), UUID, 'no id sent: a new one');
    const unsafe = await send(`${gateway.baseUrl}/dicomweb/studies/1.2.3/metadata`, { headers: { 'x-request-id': 'two words' } });
    assert.equal(unsafe.status, 404);
    assert.match(String(unsafe.headers['x-request-id']), UUID, 'an unsafe id is replaced, also on an error answer');
    const long = await send(`${gateway.baseUrl}/health/live`, { headers: { 'x-request-id': 'a'.repeat(129) } });
    assert.match(String(long.headers['x-request-id']), UUID);
    // Answers streamed outside Fastify (WADO) and Fastify's own 404 carry the id too.
    const retrieved = await send(`${gateway.baseUrl}/dicomweb/studies/${STUDY}/series/${STUDY}.1/instances/${sop}`, { headers: { 'x-request-id': 'wado-1', accept: 'multipart/related; type="application/dicom"' } });
    assert.equal(retrieved.status, 200);
    assert.equal(retrieved.headers['x-request-id'], 'wado-1');
    const nowhere = await send(`${gateway.baseUrl}/no/such/route?PatientName=${encodeURIComponent(PHI.name)}`, { headers: { 'x-request-id': 'nowhere-1' } });
    assert.equal(nowhere.status, 404);
    assert.equal(nowhere.headers['x-request-id'], 'nowhere-1');

    // The access line of each request is written when its answer ends.
    const ids = ['stow-7f3a', 'qido.b51', 'bad-query', String(metadata.headers['x-request-id']), String(unsafe.headers['x-request-id']), 'wado-1', 'nowhere-1'];
    const entries = () =>
      gateway
        .output()
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => {
          try {
            return JSON.parse(l) as Entry;
          } catch {
            assert.fail(`not a JSON line: ${l}`);
          }
        });
    await until('an access line per request', () => ids.every((id) => entries().some((e) => e.requestId === id && e.context === 'HTTP')));
    const all = entries();
    for (const e of all) {
      assert.equal(typeof e.time, 'string', JSON.stringify(e));
      assert.ok(!Number.isNaN(Date.parse(e.time)), JSON.stringify(e));
      assert.ok(['trace', 'debug', 'info', 'warn', 'error', 'fatal'].includes(e.level), JSON.stringify(e));
      assert.equal(typeof e.msg, 'string');
      assert.equal(typeof e.context, 'string', `a line without context: ${JSON.stringify(e)}`);
    }
    const stowLines = all.filter((e) => e.requestId === 'stow-7f3a');
    assert.ok(stowLines.some((e) => e.context === 'STOW' && /stored 1, failed 0/.test(e.msg)), JSON.stringify(stowLines));
    assert.ok(stowLines.some((e) => e.context === 'HTTP' && e.msg.startsWith('POST /dicomweb/studies -> 200 in ')));
    assert.ok(all.some((e) => e.requestId === 'qido.b51' && e.msg.startsWith('GET /dicomweb/studies -> 200')));
    assert.ok(all.some((e) => e.requestId === 'bad-query' && e.msg.startsWith('GET /dicomweb/studies -> 400')));
    assert.ok(all.some((e) => e.context === 'Gateway' && e.requestId === undefined), 'start lines carry no request id');

    const text = gateway.output();
    for (const value of [PHI.name, 'Quixotl', 'Zebedee', PHI.id, PHI.birthDate, PHI.accession]) {
      assert.ok(!text.includes(value), `the log holds patient data "${value}"`);
    }
  });
});

describe('request ids sent upstream and into queue jobs', () => {
  const prefix = uniqueRedisPrefix('request-ids');
  const dir = makeTempDir('request-ids');
  const sop = '1.2.826.0.1.3680043.10.7913.2.1.1';
  let upstream: Awaited<ReturnType<typeof startFakeUpstream>>;
  let gw: Awaited<ReturnType<typeof startCapturing>>;
  before(async () => {
    upstream = await startFakeUpstream(sop);
    const config = join(dir.path, 'gateway.yaml');
    writeFileSync(
      config,
      [
        'defaultStore: spool',
        'stores:',
        `  - { name: spool, kind: local, path: ${join(dir.path, 'spool')} }`,
        '  - name: upstream',
        '    kind: dicomweb',
        `    url: ${upstream.url}`,
        '    healthCheckIntervalMs: 0',
        '    retries: { attempts: 1, baseDelayMs: 20, maxDelayMs: 50 }',
        'edge:',
        '  destinations:',
        '    - { store: upstream, maxAttempts: 5, backoff: { baseDelayMs: 50, maxDelayMs: 100 } }',
        '',
      ].join('\n'),
    );
    gw = await startCapturing({
      CONFIG_FILE: config,
      DATA_DIR: join(dir.path, 'data'),
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      LOG_LEVEL: 'debug',
      EVENTS_ALLOW_PRIVATE_WEBHOOK_TARGETS: 'true',
      EVENTS_DELIVERY_RETRY_SCHEDULE_MS: '100,100',
    });
  });
  after(async () => {
    await gw?.stop();
    await upstream?.close();
    await deleteRedisKeys(prefix);
    dir.remove();
  });

  test("a relayed QIDO reaches the upstream with the client's request id, or with the id the gateway gave it", async () => {
    const res = await send(`${gw.baseUrl}/stores/upstream/dicomweb/studies?PatientID=X`, { headers: { 'x-request-id': 'relay-42' } });
    assert.equal(res.status, 200, res.text());
    // The relay sends attribute tags as numbers: 00100020 is PatientID, 00080020 StudyDate.
    const relayed = upstream.seen.filter((r) => r.method === 'GET' && r.url.includes('00100020=X'));
    assert.deepEqual(relayed.map((r) => r.requestId), ['relay-42']);
    // The store's own health probes are no client's request: they carry no id.
    for (const probe of upstream.seen.filter((r) => r.url.endsWith('limit=1'))) assert.equal(probe.requestId, undefined);

    const anonymous = await send(`${gw.baseUrl}/stores/upstream/dicomweb/studies?StudyDate=20240101`);
    assert.equal(anonymous.status, 200);
    assert.match(String(anonymous.headers['x-request-id']), UUID);
    assert.equal(upstream.seen.find((r) => r.url.includes('00080020=20240101'))?.requestId, anonymous.headers['x-request-id']);
  });

  test('an upstream error that quotes the query back (a 502, logged) is logged without the patient data', async () => {
    const res = await send(`${gw.baseUrl}/stores/upstream/dicomweb/studies?PatientName=${encodeURIComponent(PHI.name)}`, { headers: { 'x-request-id': 'quoted-1' } });
    assert.equal(res.status, 502, res.text());
    assert.match(String(res.headers.warning), /no patient named/, "the client is told the upstream's reason");
    const logged = gw.entries().filter((e) => e.requestId === 'quoted-1' && e.level === 'error');
    assert.equal(logged.length, 1, gw.lines.join(''));
    assert.match(logged[0].msg, /no patient named \[redacted\]/);
    assert.ok(!gw.lines.join('').includes('Quixotl'), 'the name is nowhere in the log');
  });

  test('the forwarding job of an upload carries its request id: the worker logs with it and every upstream STOW sends it', async () => {
    const file = syntheticInstance({ studyUid: '1.2.826.0.1.3680043.10.7913.2', seriesUid: '1.2.826.0.1.3680043.10.7913.2.1', sopInstanceUid: sop });
    const { body, contentType } = multipartBody([file]);
    const stored = await send(`${gw.baseUrl}/dicomweb/studies`, { method: 'POST', headers: { 'content-type': contentType, 'x-request-id': 'upload-9' }, body });
    assert.equal(stored.status, 200, stored.text());
    await until('the second, confirmed, STOW upstream', () => upstream.seen.filter((r) => r.method === 'POST').length >= 2);
    const stows = upstream.seen.filter((r) => r.method === 'POST');
    assert.deepEqual(stows.map((r) => r.requestId), ['upload-9', 'upload-9']);
    const refused = gw.entries().find((e) => e.level === 'warn' && e.msg.includes(`instance ${sop} refused`));
    assert.ok(refused, gw.lines.join(''));
    assert.equal(refused.requestId, 'upload-9');
    assert.equal(refused.context, 'Forward upstream');
  });

  test('a webhook delivery carries the id of the request that caused its event: the failed attempt is logged with it', async () => {
    const hookUrl = upstream.url.replace('/dicom-web', '/hooks');
    const created = await send(`${gw.baseUrl}/api/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify({ url: hookUrl, events: ['stable'] })),
    });
    assert.equal(created.status, 201, created.text());
    const study = '1.2.826.0.1.3680043.10.7913.3';
    const { body, contentType } = multipartBody([syntheticInstance({ studyUid: study, seriesUid: `${study}.1`, sopInstanceUid: `${study}.1.1` })]);
    assert.equal((await send(`${gw.baseUrl}/dicomweb/studies`, { method: 'POST', headers: { 'content-type': contentType }, body })).status, 200);
    const done = await send(`${gw.baseUrl}/api/studies/${study}/complete`, { method: 'POST', headers: { 'x-request-id': 'complete-3' } });
    assert.equal(done.status, 202, done.text());
    await until('the retried, accepted, delivery', () => upstream.seen.filter((r) => r.url === '/hooks').length >= 2);
    const failed = gw.entries().find((e) => e.context === 'Webhook deliveries' && /attempt 1 failed/.test(e.msg));
    assert.ok(failed, gw.lines.join(''));
    assert.equal(failed.requestId, 'complete-3');
  });
});

describe('LOG_FORMAT=text', () => {
  test('LOG_FORMAT=text: one readable line per entry, with the request id', async () => {
    const dir = makeTempDir('log-text');
    const gw = await startCapturing({ DATA_DIR: dir.path, LOG_FORMAT: 'text', LOG_LEVEL: 'debug' });
    try {
      await send(`${gw.baseUrl}/health/live`, { headers: { 'x-request-id': 'text-1' } });
      await until('the access line', () => gw.lines.some((l) => l.includes('(request text-1)')));
      const line = gw.lines.find((l) => l.includes('(request text-1)'))!;
      assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z DEBUG \[HTTP\] GET \/health\/live -> 200 in [\d.]+ ms \(request text-1\)\n$/);
      for (const l of gw.lines) assert.ok(!l.trimStart().startsWith('{'), `a JSON line in text format: ${l}`);
    } finally {
      await gw.stop();
      dir.remove();
    }
  });
});
