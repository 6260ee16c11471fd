/**
 * Fault tests of the dicomweb store against a real Orthanc: slowed down and cut in the middle of
 * answers by a TCP proxy, paused (SIGSTOP), killed (SIGKILL) and restarted. Through the gateway a
 * client always gets an answer in bounded time: 503 (with Retry-After) when the upstream is
 * unreachable, 504 when it is too slow, 502 when it fails, and an aborted response (never a
 * complete-looking one) when the upstream fails in the middle of an answer.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { imageInstance, noise } from '../fixtures/wado-images';
import { syntheticInstance, uidFromSeed } from '../fixtures/dicom-builder';
import { freePort } from '../helpers/free-port';
import { send } from '../helpers/http-client';
import { multipartBody } from '../helpers/multipart-body';
import { orthancAvailable, RunningOrthanc, startOrthanc } from '../helpers/orthanc';
import { startTcpProxy, TcpProxy } from '../helpers/tcp-proxy';
import { makeTempDir } from '../helpers/temp-dir';
import { RunningGateway, startInProcessGateway } from '../helpers/test-gateway';

const ROOT = '1.2.826.0.1.3680043.10.7800';
const STUDY = `${ROOT}.1`;
const SERIES = `${STUDY}.1`;
const MULTI_STUDY = `${ROOT}.2`;
const MULTI_SERIES = `${MULTI_STUDY}.1`;
const MULTI_SOP = uidFromSeed(7850, 'instance'); // imageInstance's own SOP Instance UID
const DICOM = 'multipart/related; type="application/dicom"';
const OCTETS = 'multipart/related; type="application/octet-stream"';

/** Timeouts of the stores under test, short so that every case ends in seconds. */
const STORE_SETTINGS = [
  '    percentEncodeQuery: false',
  '    timeouts: { connectMs: 1000, firstByteMs: 1500, idleMs: 1500 }',
  '    retries: { attempts: 2, baseDelayMs: 20, maxDelayMs: 100 }',
  '    circuitBreaker: { failureThreshold: 3, openMs: 1500 }',
  '    healthCheckIntervalMs: 500',
];
/** The proxied store shows each fault's own answer: no probes and no circuit breaking in between. */
const PROXIED_SETTINGS = STORE_SETTINGS.map((line) =>
  line.includes('circuitBreaker') ? '    circuitBreaker: { failureThreshold: 1000, openMs: 1500 }' : line.includes('healthCheck') ? '    healthCheckIntervalMs: 0' : line,
);

interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  bytes: number;
  /** The whole answer arrived (false: the connection was aborted in the middle). */
  complete: boolean;
  ms: number;
}

/** A GET that reports an aborted answer instead of failing, with its duration. */
function rawGet(url: string, accept: string): Promise<RawAnswer> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { accept }, agent: false }, (res) => {
      let bytes = 0;
      let settled = false;
      const done = (complete: boolean) => {
        if (settled) return;
        settled = true;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes, complete, ms: Date.now() - t0 });
      };
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => done(res.complete));
      res.on('aborted', () => done(false));
      res.on('error', () => done(false));
      res.on('close', () => done(res.complete));
    });
    req.setTimeout(30_000, () => req.destroy(new Error('the test client gave up: the gateway hung')));
    req.on('error', reject);
    req.end();
  });
}

describe('upstream faults', { skip: !orthancAvailable() && 'Orthanc is not installed' }, () => {
  let orthanc: RunningOrthanc;
  let proxy: TcpProxy;
  let gw: RunningGateway;
  let dir: { path: string; remove(): void };
  const direct = () => `${gw.baseUrl}/stores/direct/dicomweb`;
  const proxied = () => `${gw.baseUrl}/stores/proxied/dicomweb`;
  const study = Array.from({ length: 12 }, (_, i) =>
    syntheticInstance({ seed: 7800 + i, rows: 512, columns: 512, studyUid: STUDY, seriesUid: SERIES, sopInstanceUid: `${SERIES}.${i + 1}`, instanceNumber: i + 1, patientId: 'FAULTS' }),
  );
  const multiFrame = imageInstance({
    seed: 7850,
    rows: 256,
    columns: 256,
    frames: 16,
    studyUid: MULTI_STUDY,
    seriesUid: MULTI_SERIES,
    pixelData: { native: noise(256 * 256 * 2 * 16, 'frames') },
  });

  before(async () => {
    orthanc = await startOrthanc();
    proxy = await startTcpProxy(orthanc.httpPort);
    const { body, contentType } = multipartBody([...study, multiFrame]);
    const stored = await fetch(`${orthanc.dicomwebUrl}/studies`, { method: 'POST', headers: { 'content-type': contentType, accept: 'application/dicom+json' }, body });
    assert.equal(stored.status, 200, await stored.text());
    dir = makeTempDir('faults');
    const config = join(dir.path, 'gateway.yaml');
    writeFileSync(
      config,
      [
        'defaultStore: local',
        'stores:',
        '  - { name: local, kind: local }',
        '  - name: direct',
        '    kind: dicomweb',
        `    url: ${orthanc.dicomwebUrl}`,
        ...STORE_SETTINGS,
        '  - name: proxied',
        '    kind: dicomweb',
        `    url: http://127.0.0.1:${proxy.port}/dicom-web`,
        ...PROXIED_SETTINGS,
        '',
      ].join('\n'),
    );
    gw = await startInProcessGateway({ CONFIG_FILE: config, DATA_DIR: join(dir.path, 'data'), LOG_LEVEL: 'fatal' });
  });
  after(async () => {
    await gw?.stop();
    await proxy?.close();
    await orthanc?.kill('SIGCONT').catch(() => undefined);
    await orthanc?.stop();
    dir?.remove();
  });

  test('a slow upstream within the time limits: the whole answer arrives', async () => {
    proxy.faults = { delayMs: 150 };
    const res = await rawGet(`${proxied()}/studies?PatientID=FAULTS`, 'application/dicom+json');
    assert.equal(res.status, 200);
    assert.equal(res.complete, true);
    proxy.faults = { delayMs: 0 };
  });

  test('no first byte within the time limit: 504 with a reason, in bounded time', async () => {
    // Let Orthanc close the keep-alive connections of the case before (its Keep-Alive is 1 s): the
    // proxy delays their data but not their close, so a request sent on one just before Orthanc
    // closes it would break with "other side closed" (a 502) instead of waiting for its answer.
    await new Promise((r) => setTimeout(r, 1_200));
    // Far beyond the 1500 ms limit: undici checks its timeouts on a coarse timer, so under load the
    // limit fires up to about a second late; an answer held back only 2.5 s could arrive (or the
    // connection close) in that same moment and turn the 504 into a 502.
    proxy.faults = { delayMs: 6000 };
    try {
      for (const [path, accept] of [
        ['/studies?PatientID=FAULTS', 'application/dicom+json'],
        [`/studies/${STUDY}`, DICOM],
      ]) {
        const res = await send(`${proxied()}${path}`, { headers: { accept } });
        assert.equal(res.status, 504, `${path}: ${res.text()}`);
        assert.match(String(res.headers.warning), /no answer within 1500 ms/);
      }
    } finally {
      proxy.faults = { delayMs: 0 };
    }
  });

  test('an upstream cut in the middle of a multipart answer aborts the response, whatever its framing', async () => {
    // The study goes out byte for byte with Orthanc's Content-Length; frames are re-framed (chunked).
    for (const [path, accept, cut] of [
      [`/studies/${STUDY}`, DICOM, 2_000_000],
      [`/studies/${MULTI_STUDY}/series/${MULTI_SERIES}/instances/${MULTI_SOP}/frames/1,2,3,4,5,6,7,8,9,10,11,12`, OCTETS, 600_000],
    ] as const) {
      proxy.faults = { delayMs: 0, cutAfterBytes: cut };
      try {
        const res = await rawGet(`${proxied()}${path}`, accept);
        assert.equal(res.status, 200, path);
        assert.equal(res.complete, false, `${path}: a cut answer must not look complete`);
        assert.ok(res.bytes < cut + 100_000, `${path}: ${res.bytes} bytes`);
      } finally {
        proxy.faults = { delayMs: 0 };
      }
    }
  });

  test('an upstream that stalls in the middle of an answer: the response is aborted after the idle limit', async () => {
    proxy.faults = { delayMs: 0, stallAfterBytes: 1_000_000 };
    try {
      const res = await rawGet(`${proxied()}/studies/${STUDY}`, DICOM);
      assert.equal(res.status, 200);
      assert.equal(res.complete, false);
      assert.ok(res.ms < 6000, `${res.ms} ms`);
    } finally {
      proxy.faults = { delayMs: 0 };
    }
  });

  test('an upstream that breaks every connection before answering: 502, after the retries', async () => {
    proxy.faults = { delayMs: 0, cutAfterBytes: 1 };
    try {
      const res = await send(`${proxied()}/studies?PatientID=FAULTS`, { headers: { accept: 'application/dicom+json' } });
      assert.equal(res.status, 502, res.text());
      assert.match(String(res.headers.warning), /connection broke|other side closed|ECONNRESET/);
    } finally {
      proxy.faults = { delayMs: 0 };
    }
    assert.equal((await send(`${proxied()}/studies?PatientID=FAULTS`)).status, 200, 'and the next call works');
  });

  test('a paused upstream (SIGSTOP): 504 for searches and stores, in bounded time, never a hang', async () => {
    await orthanc.kill('SIGSTOP');
    try {
      const search = await send(`${direct()}/studies?PatientID=FAULTS`, { headers: { accept: 'application/dicom+json' }, timeoutMs: 10_000 });
      assert.equal(search.status, 504, search.text());
      const { body, contentType } = multipartBody([syntheticInstance({ seed: 7890, studyUid: `${ROOT}.9` })]);
      const t0 = Date.now();
      const stored = await send(`${direct()}/studies`, { method: 'POST', headers: { 'content-type': contentType, accept: 'application/dicom+json' }, body, timeoutMs: 10_000 });
      assert.ok([503, 504].includes(stored.status), `${stored.status}: ${stored.text()}`);
      assert.ok(Date.now() - t0 < 5000);
      assert.deepEqual(stored.json()['00081198'].Value[0]['00081197'].Value, [0x0110]);
    } finally {
      await orthanc.kill('SIGCONT');
    }
    await until(async () => (await send(`${direct()}/studies?PatientID=FAULTS`)).status === 200, 6000);
  });

  test('a killed upstream (SIGKILL): 503 with Retry-After, the circuit opens, the store reports itself unhealthy; the others keep working', async () => {
    await orthanc.kill('SIGKILL');
    const first = await send(`${direct()}/studies?PatientID=FAULTS`, { headers: { accept: 'application/dicom+json' } });
    assert.equal(first.status, 503, first.text());
    assert.match(String(first.headers['retry-after']), /^\d+$/);
    // Consecutive failures open the circuit: then calls are refused at once, without a request.
    await until(async () => /calls are paused/.test(String((await send(`${direct()}/studies`)).headers.warning)), 5000);
    const t0 = Date.now();
    const paused = await send(`${direct()}/studies/${STUDY}`, { headers: { accept: DICOM } });
    assert.equal(paused.status, 503);
    assert.ok(Date.now() - t0 < 200, 'refused at once');
    const { body, contentType } = multipartBody([syntheticInstance({ seed: 7891, studyUid: `${ROOT}.9` })]);
    const stored = await send(`${direct()}/studies`, { method: 'POST', headers: { 'content-type': contentType, accept: 'application/dicom+json' }, body });
    assert.equal(stored.status, 503);
    assert.match(String(stored.headers['retry-after']), /^\d+$/);
    assert.deepEqual(stored.json()['00081198'].Value[0]['00081197'].Value, [0x0110]);
    const stores = (await send(`${gw.baseUrl}/api/stores`)).json() as { name: string; health: { status: string; circuit?: string } }[];
    assert.equal(stores.find((s) => s.name === 'direct')!.health.status, 'unhealthy');
    assert.equal(stores.find((s) => s.name === 'local')!.health.status, 'healthy');
    assert.equal((await send(`${gw.baseUrl}/dicomweb/studies`)).status, 200, 'the default (local) store still answers');
  });

  test('restarted: the store recovers by itself (half-open trial, health probe)', async () => {
    await orthanc.restart();
    await until(async () => (await send(`${direct()}/studies?PatientID=FAULTS`)).status === 200, 8000);
    const results = (await send(`${direct()}/studies?PatientID=FAULTS`)).json() as unknown[];
    assert.equal(results.length, 1, 'Orthanc kept its data');
    await until(async () => ((await send(`${gw.baseUrl}/api/stores`)).json() as { name: string; health: { status: string } }[]).find((s) => s.name === 'direct')!.health.status === 'healthy', 3000);
  });
});

describe('an upstream unreachable at start', () => {
  test('does not stop the gateway: the store is unhealthy, its requests fail with 503, the others work', async () => {
    const dir = makeTempDir('unreachable');
    try {
      const config = join(dir.path, 'gateway.yaml');
      writeFileSync(
        config,
        ['defaultStore: local', 'stores:', '  - { name: local, kind: local }', '  - name: gone', '    kind: dicomweb', `    url: http://127.0.0.1:${await freePort()}/dicom-web`, ...STORE_SETTINGS, ''].join('\n'),
      );
      const gw = await startInProcessGateway({ CONFIG_FILE: config, DATA_DIR: join(dir.path, 'data'), LOG_LEVEL: 'fatal' });
      try {
        const res = await send(`${gw.baseUrl}/stores/gone/dicomweb/studies`);
        assert.equal(res.status, 503);
        assert.match(String(res.headers.warning), /upstream store 'gone'/);
        await until(async () => ((await send(`${gw.baseUrl}/api/stores`)).json() as { name: string; health: { status: string } }[]).find((s) => s.name === 'gone')!.health.status === 'unhealthy', 3000);
        assert.equal((await send(`${gw.baseUrl}/stores/local/dicomweb/studies`)).status, 200);
      } finally {
        await gw.stop();
      }
    } finally {
      dir.remove();
    }
  });
});

async function until(check: () => Promise<boolean>, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) assert.fail(`not within ${withinMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
