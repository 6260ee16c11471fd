/**
 * Graceful shutdown of a real gateway process (issue 13, point 5): on SIGTERM the listener closes
 * at once and idle keep-alive connections are dropped, while a slow STOW upload in flight is
 * finished, acknowledged and durable (retrievable after a restart), and the process exits 0; a
 * forwarding job in flight finishes before Redis and SQLite close; a request that never ends is
 * cut at the deadline (SHUTDOWN_TIMEOUT_MS), named in the log, with exit code 1.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Agent, createServer, request as httpRequest, IncomingMessage, Server } from 'node:http';
import { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { syntheticInstance } from '../fixtures/dicom-builder';
import { HttpAnswer, send } from '../helpers/http-client';
import { multipartBody } from '../helpers/multipart-body';
import { deleteRedisKeys, TEST_REDIS_URL, uniqueRedisPrefix } from '../helpers/redis-keys';
import { makeTempDir } from '../helpers/temp-dir';
import { GatewayProcess, startGatewayProcess } from '../helpers/test-gateway';

const ROOT = '1.2.826.0.1.3680043.10.7914';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function instanceOf(n: number): { study: string; sop: string; file: Buffer } {
  const study = `${ROOT}.${n}`;
  const sop = `${study}.1.1`;
  return { study, sop, file: syntheticInstance({ seed: n, studyUid: study, seriesUid: `${study}.1`, sopInstanceUid: sop, rows: 256, columns: 256 }) };
}

/** A STOW whose body goes out in `pieces` pieces, `gapMs` apart (a slow uplink); `stallAfter`
 *  pieces it stops sending for good. */
function slowStow(baseUrl: string, file: Buffer, options: { pieces: number; gapMs: number; requestId: string; stallAfter?: number }): { answer: Promise<HttpAnswer>; firstSent: Promise<void> } {
  const { body, contentType } = multipartBody([file]);
  let sentFirst!: () => void;
  const firstSent = new Promise<void>((resolve) => (sentFirst = resolve));
  const answer = new Promise<HttpAnswer>((resolve, reject) => {
    const req = httpRequest(
      `${baseUrl}/dicomweb/studies`,
      { method: 'POST', agent: false, headers: { 'content-type': contentType, 'content-length': body.length, 'x-request-id': options.requestId } },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const all = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: all, json: () => JSON.parse(all.toString()), text: () => all.toString() });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    void (async () => {
      const size = Math.ceil(body.length / options.pieces);
      for (let i = 0; i < options.pieces; i++) {
        if (options.stallAfter !== undefined && i >= options.stallAfter) return; // never finishes
        req.write(body.subarray(i * size, (i + 1) * size));
        if (i === 0) sentFirst();
        await sleep(options.gapMs);
      }
      req.end();
    })();
  });
  return { answer, firstSent };
}

/** Whether a new connection is refused (or answered 503): the gateway no longer takes work. */
async function newRequestRefused(baseUrl: string): Promise<string> {
  try {
    const res = await send(`${baseUrl}/health/live`, { timeoutMs: 2_000 });
    return `status ${res.status}`;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? String(e);
  }
}

async function exitOf(gateway: GatewayProcess, withinMs: number): Promise<number | null> {
  const child = gateway.child;
  if (child.exitCode !== null) return child.exitCode;
  const timer = setTimeout(() => child.kill('SIGKILL'), withinMs);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return code;
}

describe('graceful shutdown on SIGTERM', () => {
  const dirs: { remove(): void }[] = [];
  const running: GatewayProcess[] = [];
  const start = async (dataDir: string, env: Record<string, string> = {}) => {
    const gateway = await startGatewayProcess(dataDir, { LOG_LEVEL: 'info', ...env });
    running.push(gateway);
    return gateway;
  };
  after(async () => {
    for (const g of running) await g.kill('SIGKILL');
    for (const d of dirs) d.remove();
  });

  test('a slow STOW in flight completes and is durable, new connections are refused, idle ones closed, exit 0', async () => {
    const dir = makeTempDir('shutdown');
    dirs.push(dir);
    const gateway = await start(dir.path, { SHUTDOWN_TIMEOUT_MS: '15000' });
    const { study, sop, file } = instanceOf(1);

    // An idle keep-alive connection, left open by a client that finished its request.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    let idleSocket!: Socket;
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(`${gateway.baseUrl}/health/live`, { agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('socket', (s: Socket) => (idleSocket = s));
      req.on('error', reject);
      req.end();
    });
    const idleClosed = once(idleSocket, 'close').then(() => Date.now());

    const upload = slowStow(gateway.baseUrl, file, { pieces: 12, gapMs: 150, requestId: 'slow-upload-1' });
    await upload.firstSent;
    await sleep(200); // the STOW handler is reading the body
    const signalledAt = Date.now();
    gateway.child.kill('SIGTERM');
    const exited = exitOf(gateway, 20_000);

    await sleep(300);
    assert.equal(await newRequestRefused(gateway.baseUrl), 'ECONNREFUSED', 'a new client is turned away');
    const stored = await upload.answer;
    const storedAt = Date.now();
    assert.equal(stored.status, 200, stored.text());
    assert.equal(stored.json()['00081199'].Value[0]['00081155'].Value[0], sop);
    assert.equal(stored.headers.connection, 'close', 'the connection is not kept for another request');
    assert.ok((await idleClosed) < storedAt, 'the idle connection was closed without waiting for the upload');
    assert.ok(storedAt - signalledAt > 800, 'the upload was really in flight when the signal came');
    assert.equal(await exited, 0, gateway.output());
    agent.destroy();
    assert.match(gateway.output(), /SIGTERM: shutting down; 1 request\(s\)/);
    assert.match(gateway.output(), /"context":"Shutdown","msg":"stopped in \d+ ms"/);
    assert.doesNotMatch(gateway.output(), /"level":"(error|fatal)"/);

    const again = await start(dir.path);
    const metadata = await send(`${again.baseUrl}/dicomweb/studies/${study}/metadata`);
    assert.equal(metadata.status, 200, metadata.text());
    assert.equal(metadata.json()[0]['00080018'].Value[0], sop);
    await again.kill('SIGTERM');
    assert.equal(again.child.exitCode, 0);
  });

  test('a request that never ends is cut at the deadline: it is named in the log and the exit code is 1', async () => {
    const dir = makeTempDir('shutdown-deadline');
    dirs.push(dir);
    const gateway = await start(dir.path, { SHUTDOWN_TIMEOUT_MS: '1000' });
    const upload = slowStow(gateway.baseUrl, instanceOf(2).file, { pieces: 10, gapMs: 50, stallAfter: 2, requestId: 'never-ends-2' });
    upload.answer.catch(() => undefined); // cut by the exit
    await upload.firstSent;
    await sleep(300);
    const t0 = Date.now();
    gateway.child.kill('SIGTERM');
    assert.equal(await exitOf(gateway, 10_000), 1);
    const took = Date.now() - t0;
    assert.ok(took >= 900 && took < 4_000, `exited after ${took} ms`);
    const line = gateway
      .output()
      .split('\n')
      .find((l) => l.includes('shutdown deadline'));
    assert.ok(line, gateway.output());
    const entry = JSON.parse(line) as { level: string; msg: string; requests: { method: string; route: string; requestId: string }[] };
    assert.equal(entry.level, 'error');
    assert.match(entry.msg, /shutdown deadline of 1000 ms passed while finishing requests; still running: POST \/dicomweb\/studies \(request never-ends-2, \d+ ms\)/);
    assert.deepEqual(
      entry.requests.map((r) => [r.method, r.route, r.requestId]),
      [['POST', '/dicomweb/studies', 'never-ends-2']],
    );
  });

  test('a forwarding job in flight finishes before Redis and SQLite close; nothing is sent again after a restart', async () => {
    const dir = makeTempDir('shutdown-forward');
    dirs.push(dir);
    const prefix = uniqueRedisPrefix('shutdown-forward');
    const { study, sop, file } = instanceOf(3);
    // The destination: takes a while to answer each STOW, then confirms it.
    const stows: string[] = [];
    let stowArrived!: () => void;
    const arrived = new Promise<void>((resolve) => (stowArrived = resolve));
    const upstream: Server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.setHeader('content-type', 'application/dicom+json');
        if (req.method !== 'POST') return void res.end('[]');
        stows.push(String(req.headers['x-request-id']));
        stowArrived();
        setTimeout(() => {
          res.end(JSON.stringify({ '00081199': { vr: 'SQ', Value: [{ '00081150': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] }, '00081155': { vr: 'UI', Value: [sop] } }] } }));
        }, 1_000);
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const spool = join(dir.path, 'spool');
    const config = join(dir.path, 'gateway.yaml');
    writeFileSync(
      config,
      [
        'defaultStore: spool',
        'stores:',
        `  - { name: spool, kind: local, path: ${spool} }`,
        '  - name: dest',
        '    kind: dicomweb',
        `    url: http://127.0.0.1:${(upstream.address() as AddressInfo).port}/dicom-web`,
        '    healthCheckIntervalMs: 0',
        'edge:',
        '  destinations: [{ store: dest }]',
        '',
      ].join('\n'),
    );
    const env = { CONFIG_FILE: config, DATA_DIR: join(dir.path, 'data'), REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: prefix, SHUTDOWN_TIMEOUT_MS: '15000' };
    try {
      const gateway = await start(dir.path, env);
      const { body, contentType } = multipartBody([file]);
      const stored = await send(`${gateway.baseUrl}/dicomweb/studies`, { method: 'POST', headers: { 'content-type': contentType, 'x-request-id': 'edge-upload-3' }, body });
      assert.equal(stored.status, 200, stored.text());
      await arrived;
      gateway.child.kill('SIGTERM');
      assert.equal(await exitOf(gateway, 20_000), 0, gateway.output());
      assert.match(gateway.output(), /SIGTERM: shutting down; 0 request\(s\) and 1 job\(s\) in flight/);
      assert.doesNotMatch(gateway.output(), /"level":"(error|fatal)"/, 'no module was closed under a job still running');
      assert.deepEqual(stows, ['edge-upload-3']);
      const db = new Database(join(spool, 'index.sqlite'), { readonly: true, fileMustExist: true });
      try {
        const rows = db.prepare('SELECT state FROM forward_outbox WHERE sop_instance_uid = ?').all(sop) as { state: string }[];
        assert.deepEqual(rows, [{ state: 'delivered' }], 'the confirmation was recorded before SQLite closed');
      } finally {
        db.close();
      }

      const again = await start(dir.path, env);
      const status = await send(`${again.baseUrl}/api/forwarding`);
      assert.equal(status.status, 200, status.text());
      assert.equal(status.json().destinations[0].pendingInstances, 0);
      await sleep(300);
      assert.deepEqual(stows, ['edge-upload-3'], 'not sent again');
      assert.equal((await send(`${again.baseUrl}/dicomweb/studies/${study}/metadata`)).status, 200);
      await again.kill('SIGTERM');
      assert.equal(again.child.exitCode, 0);
    } finally {
      await new Promise<void>((resolve) => upstream.close(() => resolve()));
      await deleteRedisKeys(prefix);
    }
  });
});
