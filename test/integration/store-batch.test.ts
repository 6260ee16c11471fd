/**
 * Storing batches of instances (the edge forwarder): DicomwebStore.storeBatch against a real
 * Orthanc (one duplicate-check search per series, one POST for the new instances, each instance's
 * outcome on its own, an unreachable or paused upstream rejecting the whole), the per-instance
 * reading of a batch answer against a scripted upstream, and storeAll's fallback to store() one by
 * one, with the embedded store copying read-only (spool) files instead of moving them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { DICOMWEB_DEFAULTS, DicomwebStoreConfig } from '../../src/config/store-config';
import { InstanceReceiver } from '../../src/ingest/instance-receiver';
import { StagingArea } from '../../src/ingest/staging-area';
import { BatchItemOutcome, DicomStore, IncomingInstance, StoreOutcome } from '../../src/stores/dicom-store';
import { DicomwebStore } from '../../src/stores/dicomweb/dicomweb-store';
import { UpstreamRequest } from '../../src/stores/dicomweb/upstream-client';
import { LocalStore } from '../../src/stores/local/local-store';
import { storeAll } from '../../src/stores/store-batch';
import {
  InstanceConflict,
  StorageFull,
  StoredDataUnavailable,
  UpstreamError,
  UpstreamRefused,
  UpstreamTimeout,
  UpstreamUnavailable,
} from '../../src/stores/store-errors';
import { syntheticInstance } from '../fixtures/dicom-builder';
import { orthancAvailable, RunningOrthanc, startOrthanc } from '../helpers/orthanc';
import { listFiles } from '../helpers/store-inspection';
import { makeTempDir } from '../helpers/temp-dir';
import { getParts, splitMultipart } from '../helpers/wado-client';

const OPTIONS = { maxInstanceBytes: 1 << 30, maxHeaderBytes: 1 << 26, inlineBinaryThreshold: 1024 };
const ROOT = '1.2.826.0.1.3680043.10.7960';
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function dataset(study: number, series: number, n: number, seed = study * 1000 + series * 100 + n): Buffer {
  return syntheticInstance({
    studyUid: `${ROOT}.${study}`,
    seriesUid: `${ROOT}.${study}.${series}`,
    sopInstanceUid: `${ROOT}.${study}.${series}.${n}`,
    patientId: `PAT${study}`,
    accessionNumber: `ACC${study}`,
    instanceNumber: n,
    rows: 16,
    columns: 16,
    seed,
  });
}

function upstreamConfig(name: string, url: string, overrides: Partial<DicomwebStoreConfig> = {}): DicomwebStoreConfig {
  return {
    name,
    kind: 'dicomweb',
    url,
    auth: { type: 'none' },
    percentEncodeQuery: false,
    timeouts: { connectMs: 2_000, firstByteMs: 2_000, idleMs: 2_000 },
    retries: { ...DICOMWEB_DEFAULTS.retries },
    circuitBreaker: { ...DICOMWEB_DEFAULTS.circuitBreaker },
    connections: 8,
    healthCheckIntervalMs: 0,
    verifyDuplicates: true,
    ...overrides,
  };
}

/** Records "METHOD path-without-query" of every call the store makes to its upstream. */
function recordCalls(store: DicomwebStore): string[] {
  const calls: string[] = [];
  const send = store.client.send.bind(store.client);
  store.client.send = (request: UpstreamRequest) => {
    calls.push(`${request.method} ${request.path.split('?')[0]}`);
    return send(request);
  };
  return calls;
}

const outcomes = (results: BatchItemOutcome[]) => results.map((r) => (r.ok ? r.outcome.kind : r.error.constructor.name));

/** Resolves with `promise`, or rejects after `ms` (a hang is a failure, not a stuck test run). */
function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout;
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)));
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

describe('DicomwebStore.storeBatch against Orthanc', { skip: !orthancAvailable() && 'Orthanc is not installed' }, () => {
  const dir = makeTempDir('store-batch');
  let orthanc: RunningOrthanc;
  let store: DicomwebStore;
  let calls: string[];
  let receiver: InstanceReceiver;
  const receive = (bytes: Buffer) => receiver.receive(Readable.from([bytes]), OPTIONS);
  const receiveAll = (files: Buffer[]) => Promise.all(files.map(receive));
  /** What Orthanc holds for the instance, as stored (transfer-syntax=*). */
  const held = async (study: number, series: number, n: number): Promise<Buffer> => {
    const url = `${orthanc.dicomwebUrl}/studies/${ROOT}.${study}/series/${ROOT}.${study}.${series}/instances/${ROOT}.${study}.${series}.${n}`;
    const { parts } = await getParts(url, 'multipart/related; type="application/dicom"; transfer-syntax=*');
    assert.equal(parts.length, 1);
    return parts[0].body;
  };
  const count = (prefix: string) => calls.filter((c) => c.startsWith(prefix)).length;

  before(async () => {
    orthanc = await startOrthanc();
    store = new DicomwebStore(upstreamConfig('orthanc', orthanc.dicomwebUrl));
    calls = recordCalls(store);
    receiver = new InstanceReceiver(new StagingArea(join(dir.path, 'staging')));
  });
  after(async () => {
    await store?.close();
    await orthanc?.stop();
    dir.remove();
  });

  // Study 1: two series of five instances.
  const firstBatch = () => [1, 2].flatMap((series) => [1, 2, 3, 4, 5].map((n) => dataset(1, series, n)));

  test('10 new instances: one search per series and one POST; all stored, with identical bytes', async () => {
    const files = firstBatch();
    const instances = await receiveAll(files);
    calls.length = 0;
    const results = await storeAll(store, instances);
    assert.deepEqual(outcomes(results), Array(10).fill('stored'));
    assert.deepEqual(calls.sort(), [
      'GET /studies/1.2.826.0.1.3680043.10.7960.1/series/1.2.826.0.1.3680043.10.7960.1.1/instances',
      'GET /studies/1.2.826.0.1.3680043.10.7960.1/series/1.2.826.0.1.3680043.10.7960.1.2/instances',
      'POST /studies',
    ]);
    for (const [i, file] of files.entries()) {
      const series = i < 5 ? 1 : 2;
      assert.equal(sha256(await held(1, series, (i % 5) + 1)), sha256(file), `instance ${i} stored as sent`);
    }
    // A remote store reads the staged files, never moves them.
    for (const instance of instances) {
      assert.ok(existsSync(instance.staged.path));
      assert.equal(instance.staged.moved, undefined);
    }
  });

  test('the same batch again: all already stored, found by the searches and compared, no POST', async () => {
    const instances = await receiveAll(firstBatch());
    calls.length = 0;
    const results = await storeAll(store, instances);
    assert.deepEqual(outcomes(results), Array(10).fill('already-stored'));
    assert.equal(count('POST'), 0, 'nothing was sent again');
    assert.equal(count('GET /studies/1.2.826.0.1.3680043.10.7960.1/series/1.2.826.0.1.3680043.10.7960.1.1/instances/'), 5, 'each held instance fetched');
    assert.equal(calls.length, 2 + 10);
  });

  test('an instance with a held SOP Instance UID but other bytes is a conflict; the others of the batch are stored', async () => {
    const files = [dataset(1, 3, 1), dataset(1, 3, 2), dataset(1, 1, 3, 999), dataset(2, 1, 1), dataset(1, 3, 3), dataset(1, 1, 6)];
    const instances = await receiveAll(files);
    calls.length = 0;
    const results = await storeAll(store, instances);
    assert.deepEqual(outcomes(results), ['stored', 'stored', 'InstanceConflict', 'stored', 'stored', 'stored']);
    const conflict = results[2] as { ok: false; error: Error };
    assert.match(conflict.error.message, /already stored in upstream store "orthanc" with different content/);
    // Orthanc matched the list of SOP Instance UIDs: only the held one (not 1.1.6, in the same
    // series as five held instances) was fetched and compared.
    assert.deepEqual(calls.filter((c) => c.startsWith('GET') && !c.endsWith('/instances')), [
      'GET /studies/1.2.826.0.1.3680043.10.7960.1/series/1.2.826.0.1.3680043.10.7960.1.1/instances/1.2.826.0.1.3680043.10.7960.1.1.3',
    ]);
    assert.equal(count('GET'), 3 + 1, 'one search per series (three), one comparison');
    assert.equal(count('POST'), 1);
    assert.equal(sha256(await held(1, 1, 6)), sha256(files[5]));
    assert.equal(sha256(await held(1, 1, 3)), sha256(firstBatch()[2]), 'Orthanc still holds the first bytes');
    assert.equal(sha256(await held(2, 1, 1)), sha256(files[3]));
    assert.equal(sha256(await held(1, 3, 3)), sha256(files[4]));
  });

  test('the same SOP Instance UID twice in a batch: handled as two stores in turn', async () => {
    const files = [dataset(3, 1, 1), dataset(3, 1, 2), dataset(3, 1, 1, 4242), dataset(3, 1, 2)];
    const results = await storeAll(store, await receiveAll(files));
    assert.deepEqual(outcomes(results), ['stored', 'stored', 'InstanceConflict', 'already-stored']);
    assert.equal(sha256(await held(3, 1, 1)), sha256(files[0]));
  });

  test('without verifyDuplicates: one POST and nothing else', async () => {
    const trusting = new DicomwebStore(upstreamConfig('orthanc-trusting', orthanc.dicomwebUrl, { verifyDuplicates: false }));
    const trustingCalls = recordCalls(trusting);
    try {
      const files = [1, 2, 3].map((n) => dataset(4, 1, n));
      const results = await storeAll(trusting, await receiveAll(files));
      assert.deepEqual(outcomes(results), ['stored', 'stored', 'stored']);
      assert.deepEqual(trustingCalls, ['POST /studies']);
      assert.equal(sha256(await held(4, 1, 2)), sha256(files[1]));
    } finally {
      await trusting.close();
    }
  });

  test('a staged file gone before the send fails its own instance only', async () => {
    const instances = await receiveAll([dataset(5, 1, 1), dataset(5, 1, 2)]);
    unlinkSync(instances[0].staged.path);
    const results = await storeAll(store, instances);
    assert.deepEqual(outcomes(results), ['StoredDataUnavailable', 'stored']);
    assert.ok((results[0] as { error: Error }).error instanceof StoredDataUnavailable);
  });

  test('Orthanc paused (SIGSTOP): the batch rejects with UpstreamTimeout within the time limits', async () => {
    const instances = await receiveAll([dataset(6, 1, 1), dataset(6, 1, 2)]);
    await orthanc.kill('SIGSTOP');
    try {
      const started = Date.now();
      await assert.rejects(within(15_000, storeAll(store, instances)), UpstreamTimeout);
      assert.ok(Date.now() - started < 10_000);
    } finally {
      await orthanc.kill('SIGCONT');
    }
  });

  test('Orthanc stopped: the batch rejects with UpstreamUnavailable at once, no hang', async () => {
    const instances = await receiveAll([dataset(7, 1, 1), dataset(7, 1, 2), dataset(7, 2, 1)]);
    await orthanc.kill('SIGKILL');
    const started = Date.now();
    await assert.rejects(within(15_000, storeAll(store, instances)), UpstreamUnavailable);
    assert.ok(Date.now() - started < 10_000);
    // Without the duplicate check the first call is the POST: the same.
    const trusting = new DicomwebStore(upstreamConfig('orthanc-trusting', orthanc.dicomwebUrl, { verifyDuplicates: false }));
    try {
      await assert.rejects(within(15_000, storeAll(trusting, instances)), UpstreamUnavailable);
    } finally {
      await trusting.close();
    }
  });
});

describe('DicomwebStore.storeBatch: the answer read per instance (scripted upstream)', () => {
  const SERIES = `${ROOT}.50.1`;
  const dir = makeTempDir('store-batch-scripted');
  let server: Server;
  let store: DicomwebStore;
  let receiver: InstanceReceiver;
  /** Each POST received: the bytes of its parts. */
  const posts: Buffer[][] = [];
  let answer: (sops: string[]) => { status: number; body: object | '' };

  const item = (sop: string, extra: object = {}) => ({ '00081150': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] }, '00081155': { vr: 'UI', Value: [sop] }, ...extra });

  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const body = Buffer.concat(chunks);
        // The health probe (and anything else but a STOW): nothing here.
        if (req.method !== 'POST') return void res.writeHead(200, { 'content-type': 'application/dicom+json' }).end('[]');
        assert.equal(Number(req.headers['content-length']), body.length, 'Content-Length computed right');
        const parts = await splitMultipart({ status: 200, headers: req.headers, body, json: () => JSON.parse('null'), text: () => '' });
        posts.push(parts.map((p) => p.body));
        const sops = parts.map((p) => new RegExp(`${SERIES.replace(/\./g, '\\.')}\\.\\d+`).exec(p.body.toString('latin1'))![0]);
        const { status, body: out } = answer(sops);
        if (out === '') return void res.writeHead(status).end();
        res.writeHead(status, { 'content-type': 'application/dicom+json' }).end(JSON.stringify(out));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dicom-web`;
    store = new DicomwebStore(upstreamConfig('scripted', url, { verifyDuplicates: false }));
    receiver = new InstanceReceiver(new StagingArea(join(dir.path, 'staging')));
  });
  after(async () => {
    await store?.close();
    server?.closeAllConnections();
    server?.close();
    dir.remove();
  });

  const files = [1, 2, 3, 4, 5].map((n) =>
    syntheticInstance({ studyUid: `${ROOT}.50`, seriesUid: SERIES, sopInstanceUid: `${SERIES}.${n}`, seed: 5000 + n, rows: 8, columns: 8 }),
  );

  test('stored, refused with its reason, or silently dropped: each instance its own outcome, from one POST', async () => {
    answer = (sops) => ({
      status: 202,
      body: {
        '00081199': { vr: 'SQ', Value: [item(sops[0]), item(sops[4])] },
        '00081198': {
          vr: 'SQ',
          Value: [item(sops[1], { '00081197': { vr: 'US', Value: [0xa700] } }), item(sops[2], { '00081197': { vr: 'US', Value: [0x0111] } })],
        },
      },
    });
    posts.length = 0;
    const results = await storeAll(store, await Promise.all(files.map((f) => receiver.receive(Readable.from([f]), OPTIONS))));
    assert.deepEqual(outcomes(results), ['stored', 'StorageFull', 'InstanceConflict', 'UpstreamRefused', 'stored']);
    assert.ok((results[1] as { error: Error }).error instanceof StorageFull);
    assert.ok((results[2] as { error: Error }).error instanceof InstanceConflict);
    assert.equal(((results[3] as { error: Error }).error as UpstreamRefused).failureReason, 0x0110, 'a silent drop is a processing failure');
    assert.equal(posts.length, 1);
    assert.deepEqual(posts[0].map(sha256), files.map(sha256), 'every part carries its file as it is');
  });

  test('an answer without a STOW-RS body fails every instance (0x0110) without rejecting the batch', async () => {
    answer = () => ({ status: 400, body: '' });
    const results = await storeAll(store, await Promise.all(files.slice(0, 2).map((f) => receiver.receive(Readable.from([f]), OPTIONS))));
    assert.deepEqual(outcomes(results), ['UpstreamRefused', 'UpstreamRefused']);
  });

  test('a 500 for the whole request is the error of each instance, not a rejection', async () => {
    answer = () => ({ status: 500, body: { Message: 'boom' } });
    const results = await storeAll(store, await Promise.all(files.slice(0, 2).map((f) => receiver.receive(Readable.from([f]), OPTIONS))));
    assert.deepEqual(outcomes(results), ['UpstreamError', 'UpstreamError']);
    assert.ok((results[0] as { error: Error }).error instanceof UpstreamError);
  });

  test('413 for the whole request: sent again in halves, down to one instance', async () => {
    answer = (sops) =>
      sops.length > 2 ? { status: 413, body: '' } : sops.includes(`${SERIES}.5`) ? { status: 413, body: '' } : { status: 200, body: { '00081199': { vr: 'SQ', Value: sops.map((s) => item(s)) } } };
    posts.length = 0;
    const results = await storeAll(store, await Promise.all(files.map((f) => receiver.receive(Readable.from([f]), OPTIONS))));
    assert.deepEqual(outcomes(results), ['stored', 'stored', 'stored', 'stored', 'StorageFull']);
    assert.deepEqual(posts.map((p) => p.length), [5, 3, 2, 1, 2, 1, 1]);
  });
});

describe('storeAll falling back to store(), and the embedded store with read-only (spool) files', () => {
  const dir = makeTempDir('store-all-local');
  let store: LocalStore;
  let receiver: InstanceReceiver;
  /** Staged as the edge spool offers its files: read-only, to be copied. */
  const spooled = async (bytes: Buffer) => {
    const instance = await receiver.receive(Readable.from([bytes]), OPTIONS);
    instance.staged.readOnly = true;
    return instance;
  };

  before(() => {
    store = new LocalStore('destination', join(dir.path, 'store'));
    receiver = new InstanceReceiver(new StagingArea(join(dir.path, 'spool')));
  });
  after(async () => {
    await store.close();
    dir.remove();
  });

  test('a read-only staged file is copied into place: the source stays, the stored bytes are identical', async () => {
    const files = [1, 2, 3].map((n) => dataset(20, 1, n));
    const instances = await Promise.all(files.map(spooled));
    const results = await storeAll(store, instances);
    assert.deepEqual(outcomes(results), ['stored', 'stored', 'stored']);
    for (const [i, instance] of instances.entries()) {
      assert.ok(existsSync(instance.staged.path), 'the spool file is still there');
      assert.ok(readFileSync(instance.staged.path).equals(files[i]), 'and unchanged');
      assert.equal(instance.staged.moved, undefined);
      const row = store.index.findInstance(instance.identity.sopInstanceUid)!;
      const stored = join(store.root, row.file_path);
      assert.ok(readFileSync(stored).equals(files[i]), 'the stored copy has the same bytes');
      assert.notEqual(statSync(stored).ino, statSync(instance.staged.path).ino, 'a copy, not a link');
    }
    assert.deepEqual(
      listFiles(join(store.root, 'blobs')).filter((f) => /\.tmp-/.test(f)),
      [],
      'no temporary file left behind',
    );
  });

  test('one outcome per instance, in order: already stored, conflict and stored side by side', async () => {
    const files = [dataset(20, 1, 1), dataset(20, 1, 2, 7777), dataset(20, 1, 4)];
    const instances = await Promise.all(files.map(spooled));
    const results = await storeAll(store, instances);
    assert.deepEqual(outcomes(results), ['already-stored', 'InstanceConflict', 'stored']);
    for (const instance of instances) assert.ok(existsSync(instance.staged.path));
  });

  test('a study folder removed since (known to the store) is made again for a copy', async () => {
    const first = await spooled(dataset(21, 1, 1));
    await storeAll(store, [first]);
    const row = store.index.findInstance(first.identity.sopInstanceUid)!;
    // Another instance of the same series, after its folder vanished.
    const { rmSync } = await import('node:fs');
    rmSync(join(store.root, row.file_path, '..'), { recursive: true, force: true });
    const results = await storeAll(store, [await spooled(dataset(21, 1, 2))]);
    assert.deepEqual(outcomes(results), ['stored']);
  });

  test('an unreachable store rejects the whole batch; other errors are the outcome of their instance', async () => {
    const seen: string[] = [];
    const fake = (fail: (sop: string) => Error | undefined): DicomStore =>
      ({
        name: 'fake',
        store: async (instance: IncomingInstance): Promise<StoreOutcome> => {
          const sop = instance.identity.sopInstanceUid;
          seen.push(sop);
          const error = fail(sop);
          if (error) throw error;
          return { kind: 'stored' };
        },
      }) as unknown as DicomStore;
    const instances = await Promise.all([1, 2, 3].map((n) => spooled(dataset(22, 1, n))));
    const sop = (n: number) => `${ROOT}.22.1.${n}`;

    const mixed = await storeAll(fake((s) => (s === sop(2) ? new UpstreamError('bad gateway') : undefined)), instances);
    assert.deepEqual(outcomes(mixed), ['stored', 'UpstreamError', 'stored']);

    seen.length = 0;
    await assert.rejects(storeAll(fake((s) => (s === sop(2) ? new UpstreamUnavailable('down') : undefined)), instances), UpstreamUnavailable);
    assert.deepEqual(seen, [sop(1), sop(2)], 'stops at the outage');
    await assert.rejects(storeAll(fake(() => new UpstreamTimeout('slow')), instances), UpstreamTimeout);
    assert.deepEqual(await storeAll(fake(() => undefined), []), []);
  });

  test('a store with storeBatch is asked once, and must answer once per instance', async () => {
    const instances = await Promise.all([1, 2].map((n) => spooled(dataset(23, 1, n))));
    let batches = 0;
    const batching = {
      name: 'batching',
      store: () => Promise.reject(new Error('store() must not be called')),
      storeBatch: async (list: IncomingInstance[]) => {
        batches++;
        return list.map((): BatchItemOutcome => ({ ok: true, outcome: { kind: 'stored' } }));
      },
    } as unknown as DicomStore;
    assert.deepEqual(outcomes(await storeAll(batching, instances)), ['stored', 'stored']);
    assert.equal(batches, 1);
    const short = { ...batching, storeBatch: async () => [] } as unknown as DicomStore;
    await assert.rejects(storeAll(short, instances), /answered a batch of 2 instances with 0 outcomes/);
  });
});
