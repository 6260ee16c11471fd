/**
 * The metadata cache against real parts: the real Redis (own key prefix, only its own keys
 * removed), a real Orthanc behind a fake "cloud" proxy that adds latency, makes new studies
 * visible only after a delay and counts what it is asked (test/fakes/indexing-upstream.ts), and a
 * Redis server of the test's own for the outage case.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import IORedis from 'ioredis';
import { syntheticInstance } from '../fixtures/dicom-builder';
import { IndexingUpstream, startIndexingUpstream } from '../fakes/indexing-upstream';
import { freePort } from '../helpers/free-port';
import { send } from '../helpers/http-client';
import { multipartBody } from '../helpers/multipart-body';
import { orthancAvailable, RunningOrthanc, startOrthanc } from '../helpers/orthanc';
import { deleteRedisKeys, TEST_REDIS_URL, uniqueRedisPrefix } from '../helpers/redis-keys';
import { makeTempDir } from '../helpers/temp-dir';
import { startInProcessGateway } from '../helpers/test-gateway';

const ROOT = '1.2.826.0.1.3680043.10.7813';
type Json = Record<string, { vr: string; Value?: any[]; BulkDataURI?: string; InlineBinary?: string }>;

function studyFiles(n: number, count: number): Buffer[] {
  const study = `${ROOT}.${n}`;
  return Array.from({ length: count }, (_, i) =>
    syntheticInstance({ seed: n * 100 + i, rows: 16, columns: 16, studyUid: study, seriesUid: `${study}.${1 + (i % 2)}`, sopInstanceUid: `${study}.${1 + (i % 2)}.${i + 1}`, instanceNumber: i + 1, patientId: `CACHE-${n}`, studyDescription: 'cache test' }),
  );
}

async function stowTo(url: string, files: Buffer[]): Promise<void> {
  const { body, contentType } = multipartBody(files);
  const res = await send(`${url}/studies`, { method: 'POST', headers: { 'content-type': contentType, accept: 'application/dicom+json' }, body });
  assert.equal(res.status, 200, res.text());
}

/** Attributes compared between the cache and the upstream: everything but URIs and group 0002. */
function comparable(results: Json[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const r of results) {
    const copy: Record<string, unknown> = {};
    for (const [tag, attr] of Object.entries(r)) {
      if (tag === '00081190' || tag.startsWith('0002') || tag === '7FE00010') continue;
      copy[tag] = attr.BulkDataURI !== undefined ? { vr: attr.vr, bulk: true } : attr;
    }
    out[String(r['00080018'].Value![0])] = copy;
  }
  return out;
}

function cacheSuite(name: string, redis: () => string | undefined) {
  describe(`metadata cache (${name})`, { skip: !orthancAvailable() && 'Orthanc is not installed' }, () => {
    let orthanc: RunningOrthanc;
    let cloud: IndexingUpstream;
    let gw: Awaited<ReturnType<typeof startInProcessGateway>>;
    const prefix = uniqueRedisPrefix('cache');
    const dir = makeTempDir('cache');
    const base = () => `${gw.baseUrl}/stores/cloud/dicomweb`;
    const metadata = (path: string, headers: Record<string, string> = {}) => send(`${base()}${path}/metadata`, { headers: { accept: 'application/dicom+json', ...headers } });

    before(async () => {
      orthanc = await startOrthanc();
      cloud = await startIndexingUpstream({ target: orthanc.dicomwebUrl, latencyMs: 150, visibilityDelayMs: 2_000 });
      writeFileSync(
        join(dir.path, 'gateway.yaml'),
        ['defaultStore: cloud', 'stores:', '  - name: cloud', '    kind: dicomweb', `    url: ${cloud.url}`, '    percentEncodeQuery: false', '    verifyDuplicates: false', ''].join('\n'),
      );
      const env: Record<string, string> = { CONFIG_FILE: join(dir.path, 'gateway.yaml'), REDIS_KEY_PREFIX: prefix };
      if (redis()) env.REDIS_URL = redis()!;
      gw = await startInProcessGateway(env);
    });

    after(async () => {
      await gw?.stop();
      await cloud?.close();
      await orthanc?.stop();
      if (redis()) await deleteRedisKeys(prefix);
      dir.remove();
    });

    test('concurrent cold reads of a study cause one upstream fetch; warm reads none; the answer equals the upstream', async () => {
      const files = studyFiles(1, 6);
      await stowTo(orthanc.dicomwebUrl, files); // behind the gateway's back: not known from ingest
      const study = `${ROOT}.1`;
      cloud.resetCounts();
      const answers = await Promise.all(Array.from({ length: 10 }, () => metadata(`/studies/${study}`)));
      for (const a of answers) assert.equal(a.status, 200);
      assert.equal(cloud.counts().metadata, 1, 'one upstream fetch for ten concurrent readers');
      const warm = await metadata(`/studies/${study}`);
      const series = await metadata(`/studies/${study}/series/${study}.2`);
      assert.equal(cloud.counts().metadata, 1, 'warm study and series reads never reach the upstream');
      assert.equal(warm.json().length, 6);
      assert.equal(series.json().length, 3);
      const direct = await send(`${orthanc.dicomwebUrl}/studies/${study}/metadata`, { headers: { accept: 'application/dicom+json' } });
      assert.deepEqual(comparable(warm.json()), comparable(direct.json()));
    });

    test('ETag and If-None-Match: 304 while unchanged, 200 with a new ETag once an instance arrives through the gateway', async () => {
      const study = `${ROOT}.1`;
      const first = await metadata(`/studies/${study}`);
      const etag = String(first.headers.etag);
      assert.match(etag, /^".+"$/);
      const again = await metadata(`/studies/${study}`, { 'if-none-match': etag });
      assert.equal(again.status, 304);
      assert.equal(again.body.length, 0);
      cloud.resetCounts();
      const extra = syntheticInstance({ seed: 199, rows: 16, columns: 16, studyUid: study, seriesUid: `${study}.1`, sopInstanceUid: `${study}.1.99`, instanceNumber: 99, patientId: 'CACHE-1', studyDescription: 'cache test' });
      await stowTo(base(), [extra]);
      const changed = await metadata(`/studies/${study}`, { 'if-none-match': etag });
      assert.equal(changed.status, 200);
      assert.notEqual(changed.headers.etag, etag);
      assert.equal(changed.json().length, 7, 'the new instance is in the cached study');
      assert.equal(cloud.counts().metadata, 0, 'updated in place, no refetch');
    });

    test('a study uploaded through the gateway is served at once while the upstream still indexes it, then from the upstream', async () => {
      const files = studyFiles(2, 4);
      const study = `${ROOT}.2`;
      const t0 = Date.now();
      await stowTo(base(), files);
      const soon = await metadata(`/studies/${study}`);
      const elapsed = Date.now() - t0;
      assert.equal(soon.status, 200, soon.text());
      assert.equal(soon.json().length, 4);
      assert.match(String(soon.headers.warning), /not confirmed/);
      const hidden = await send(`${cloud.url}/studies/${study}/metadata`, { headers: { accept: 'application/dicom+json' } });
      assert.equal(hidden.status, 404, 'the upstream does not show it yet');
      assert.ok(elapsed < 2_000, `${elapsed} ms`);
      // Searches find it too (read-your-writes), with its computed attributes.
      const search = async (q: string) => {
        const res = await send(`${base()}${q}`, { headers: { accept: 'application/dicom+json' } });
        assert.equal(res.status, 200, res.text());
        return res.json() as Json[];
      };
      const [found, ...others] = await search('/studies?PatientID=CACHE-2');
      assert.equal(others.length, 0);
      assert.deepEqual(found['0020000D'].Value, [study]);
      assert.equal(Number(found['00201208'].Value![0]), 4);
      assert.equal(Number(found['00201206'].Value![0]), 2);
      assert.deepEqual(found['00080061'].Value, ['CT']);
      assert.equal((await search(`/studies/${study}/series`)).length, 2);
      assert.equal((await search(`/studies/${study}/series/${study}.1/instances`)).length, 2);
      assert.deepEqual(await search('/studies?PatientID=CACHE-2&StudyDate=19000101'), [], 'conditions still apply');
      assert.equal((await send(`${cloud.url}/studies?PatientID=CACHE-2`, { headers: { accept: 'application/dicom+json' } })).json().length, 0, 'the upstream does not list it yet');
      // Once the upstream shows it, a later read confirms it and the answer is the same.
      await new Promise((r) => setTimeout(r, 2_300));
      await metadata(`/studies/${study}`); // triggers the background confirmation
      let confirmed;
      for (let i = 0; i < 50; i++) {
        confirmed = await metadata(`/studies/${study}`);
        if (confirmed.headers.warning === undefined) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(confirmed!.headers.warning, undefined);
      const direct = await send(`${orthanc.dicomwebUrl}/studies/${study}/metadata`, { headers: { accept: 'application/dicom+json' } });
      assert.deepEqual(comparable(confirmed!.json()), comparable(direct.json()), 'what was extracted at ingest equals what the upstream indexed');
      assert.equal((await search('/studies?PatientID=CACHE-2')).length, 1, 'once the upstream shows it: once, not twice');
      assert.equal((await search(`/studies/${study}/series/${study}.1/instances`)).length, 2);
    });

    test('unknown studies, series and instances are 404; the cache never invents them', async () => {
      assert.equal((await metadata(`/studies/${ROOT}.404`)).status, 404);
      assert.equal((await metadata(`/studies/${ROOT}.1/series/${ROOT}.1.7`)).status, 404);
      assert.equal((await metadata(`/studies/${ROOT}.1/series/${ROOT}.1.1/instances/${ROOT}.1.1.404`)).status, 404);
    });

    if (redis()) {
      test("the run's Redis keys deleted: answers still come, and the cache refills", async () => {
        const study = `${ROOT}.1`;
        await deleteRedisKeys(prefix);
        cloud.resetCounts();
        assert.equal((await metadata(`/studies/${study}`)).status, 200);
        assert.equal(cloud.counts().metadata, 1, 'refilled from the upstream');
        assert.equal((await metadata(`/studies/${study}`)).status, 200);
        assert.equal(cloud.counts().metadata, 1);
      });
    }
  });
}

cacheSuite('Redis', () => TEST_REDIS_URL);
cacheSuite('in process, without REDIS_URL', () => undefined);

describe('metadata cache: Redis stopped and started again mid-test', { skip: !orthancAvailable() && 'Orthanc is not installed' }, () => {
  let orthanc: RunningOrthanc;
  let cloud: IndexingUpstream;
  let gw: Awaited<ReturnType<typeof startInProcessGateway>>;
  let redis: ChildProcess | undefined;
  let port: number;
  const dir = makeTempDir('cache-outage');
  const startRedis = async () => {
    redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const client = new IORedis({ port, maxRetriesPerRequest: 0, retryStrategy: () => 50, lazyConnect: true });
    for (let i = 0; i < 100; i++) {
      if (await client.connect().then(() => true, () => false)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    client.disconnect();
  };

  before(async () => {
    port = await freePort();
    await startRedis();
    orthanc = await startOrthanc();
    cloud = await startIndexingUpstream({ target: orthanc.dicomwebUrl, latencyMs: 50 });
    writeFileSync(join(dir.path, 'gateway.yaml'), ['stores:', '  - name: cloud', '    kind: dicomweb', `    url: ${cloud.url}`, '    percentEncodeQuery: false', ''].join('\n'));
    gw = await startInProcessGateway({ CONFIG_FILE: join(dir.path, 'gateway.yaml'), REDIS_URL: `redis://127.0.0.1:${port}`, REDIS_KEY_PREFIX: 'outage' });
    await stowTo(orthanc.dicomwebUrl, studyFiles(3, 3));
  });

  after(async () => {
    await gw?.stop();
    redis?.kill('SIGKILL');
    await cloud?.close();
    await orthanc?.stop();
    dir.remove();
  });

  test('Redis down: metadata still answered (from the upstream), health says so; back: cached again', async () => {
    const path = `${gw.baseUrl}/dicomweb/studies/${ROOT}.3/metadata`;
    const get = () => send(path, { headers: { accept: 'application/dicom+json' } });
    assert.equal((await get()).status, 200);
    cloud.resetCounts();
    assert.equal((await get()).status, 200);
    assert.equal(cloud.counts().metadata, 0, 'cached in Redis');
    redis!.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    for (let i = 0; i < 3; i++) {
      const res = await get();
      assert.equal(res.status, 200, res.text());
      assert.equal(res.json().length, 3);
    }
    const health = (await send(`${gw.baseUrl}/health/ready`)).json();
    assert.equal(health.status, 'ok');
    assert.equal(health.metadataCache.available, false);
    const metrics = (await send(`${gw.baseUrl}/metrics`)).text();
    assert.match(metrics, /^dicomweb_gateway_metadata_cache_available 0$/m);
    assert.match(metrics, /^dicomweb_gateway_metadata_cache_reads_total\{result="bypass"\} [1-9]/m);
    assert.ok(cloud.counts().metadata >= 1, 'answered by the upstream meanwhile');
    await startRedis();
    for (let i = 0; i < 100 && !(await send(`${gw.baseUrl}/health/ready`)).json().metadataCache.available; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal((await get()).status, 200); // refills the empty Redis
    cloud.resetCounts();
    assert.equal((await get()).status, 200);
    assert.equal(cloud.counts().metadata, 0, 'cached again');
  });
});
