/**
 * Edge store-and-forward against real parts: the gateway's embedded store as the spool, a real
 * Orthanc as the destination, the real Redis (own key prefix). Instances uploaded by STOW reach
 * Orthanc with identical bytes; an outage parks nothing; STAT goes first; a Redis that lost the
 * queue is rebuilt from the outbox; conflicts are parked and visible; retention frees the spool.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { ForwardingService } from '../../src/forwarding/forwarding.service';
import { syntheticInstance } from '../fixtures/dicom-builder';
import { send } from '../helpers/http-client';
import { multipartBody } from '../helpers/multipart-body';
import { orthancAvailable, RunningOrthanc, startOrthanc } from '../helpers/orthanc';
import { deleteRedisKeys, TEST_REDIS_URL, uniqueRedisPrefix } from '../helpers/redis-keys';
import { writeEdgeGatewayConfig } from '../helpers/edge-gateway-config';
import { makeTempDir } from '../helpers/temp-dir';
import { startInProcessGateway } from '../helpers/test-gateway';
import { splitMultipart } from '../helpers/wado-client';

const ROOT = '1.2.826.0.1.3680043.10.7811';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface Made {
  study: string;
  files: Map<string, Buffer>;
}

function study(n: number, count: number, extra: { tag: string; value: string }[] = [], description = 'routine'): Made {
  const studyUid = `${ROOT}.${n}`;
  const files = new Map<string, Buffer>();
  for (let i = 1; i <= count; i++) {
    const sop = `${studyUid}.1.${i}`;
    files.set(
      sop,
      syntheticInstance({
        seed: n * 1000 + i,
        rows: 32,
        columns: 32,
        studyUid,
        seriesUid: `${studyUid}.1`,
        sopInstanceUid: sop,
        instanceNumber: i,
        studyDescription: description,
        patientId: `EDGE-${n}`,
        extraElements: extra,
      }),
    );
  }
  return { study: studyUid, files };
}

describe('edge forwarding to a real Orthanc', { skip: !orthancAvailable() && 'Orthanc is not installed' }, () => {
  let orthanc: RunningOrthanc;
  let gw: Awaited<ReturnType<typeof startInProcessGateway>>;
  let forwarding: ForwardingService;
  const prefix = uniqueRedisPrefix('edge');
  const dir = makeTempDir('edge');

  const stow = async (parts: Buffer[], headers: Record<string, string> = {}) => {
    const { body, contentType } = multipartBody(parts);
    const res = await send(`${gw.baseUrl}/dicomweb/studies`, { method: 'POST', headers: { 'content-type': contentType, accept: 'application/dicom+json', ...headers }, body });
    assert.equal(res.status, 200, res.text());
  };
  const status = async (studyUid: string) => {
    const res = await send(`${gw.baseUrl}/api/studies/${studyUid}/status`);
    assert.equal(res.status, 200, res.text());
    return res.json() as { priority: { level: string; reasons: string[] } | null; instances: { sopInstanceUid: string; destinations: Record<string, any> }[] };
  };
  const states = async (studyUid: string) => (await status(studyUid)).instances.map((i) => i.destinations.orthanc.state as string);
  const waitFor = async (what: string, check: () => Promise<boolean>, ms = 30_000) => {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const allDelivered = (s: Made) => waitFor(`study ${s.study} delivered`, async () => (await states(s.study)).every((x) => x === 'delivered'));
  /** What Orthanc holds of a study: SOP Instance UID -> SHA-256 of the bytes as stored. */
  const heldByOrthanc = async (studyUid: string): Promise<Map<string, string>> => {
    const res = await send(`${orthanc.dicomwebUrl}/studies/${studyUid}`, { headers: { accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' } });
    if (res.status === 404) return new Map();
    assert.equal(res.status, 200);
    const held = new Map<string, string>();
    for (const part of await splitMultipart(res)) {
      const sop = /1\.2\.826\.0\.1\.3680043\.10\.7811\.\d+\.1\.\d+/.exec(part.body.subarray(0, 400).toString('latin1'))?.[0];
      if (sop) held.set(sop, sha(part.body));
    }
    return held;
  };

  before(async () => {
    orthanc = await startOrthanc();
    const config = writeEdgeGatewayConfig(dir.path, orthanc.dicomwebUrl, {
      destination: { batchSize: 5, maxAttempts: 3, backoff: { baseDelayMs: 200, maxDelayMs: 1000 }, retention: { mode: 'delete-after-confirmed' } },
      edge: {
        priorityRules: [{ when: { attributes: { StudyDescription: 'stroke' } }, priority: 'STAT' }],
        priorityHeaderClients: ['*'],
        reconcileIntervalMs: 1000,
        retentionIntervalMs: 3_600_000,
      },
    });
    gw = await startInProcessGateway({ CONFIG_FILE: config, DATA_DIR: join(dir.path, 'data'), REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: prefix });
    forwarding = gw.app.get(ForwardingService);
  });

  after(async () => {
    await gw?.stop();
    await orthanc?.stop();
    await deleteRedisKeys(prefix);
    dir.remove();
  });

  test('instances accepted by STOW reach Orthanc with identical bytes, each once; the status says so', async () => {
    const a = study(1, 12);
    await stow([...a.files.values()]);
    await allDelivered(a);
    const held = await heldByOrthanc(a.study);
    assert.equal(held.size, 12);
    for (const [sop, bytes] of a.files) assert.equal(held.get(sop), sha(bytes), sop);
    const s = await status(a.study);
    assert.equal(s.priority?.level, 'ROUTINE');
    // The study event "forwarded" once every instance is confirmed (events.sqlite).
    await waitFor('the forwarded event', async () => (await send(`${gw.baseUrl}/api/studies/${a.study}/events?store=spool`)).json().events?.some((e: { type: string }) => e.type === 'forwarded'));
    for (const i of s.instances) {
      assert.equal(i.destinations.orthanc.outcome, 'stored');
      assert.equal(i.destinations.orthanc.attempts, 0);
    }
    const overview = (await send(`${gw.baseUrl}/api/forwarding`)).json();
    assert.equal(overview.redis, 'connected');
    const [orthancStatus] = overview.destinations;
    assert.equal(orthancStatus.destination, 'orthanc');
    assert.equal(orthancStatus.pendingInstances, 0);
    assert.equal(orthancStatus.failed, 0);
    assert.ok(orthancStatus.throughput.instances >= 12);
    const metrics = (await send(`${gw.baseUrl}/metrics`)).text();
    assert.match(metrics, /^dicomweb_gateway_forward_failed_instances\{destination="orthanc"\} 0$/m);
    assert.match(metrics, /^dicomweb_gateway_forward_redis_connected 1$/m);
    assert.match(metrics, /^dicomweb_gateway_process_resident_memory_bytes \d+/m);
  });

  test('Orthanc down: nothing is parked, everything is pending and visible; once it is back, all is delivered', async () => {
    await orthanc.kill('SIGKILL');
    const b = study(2, 8);
    await stow([...b.files.values()]);
    await waitFor('the destination to be paused', async () => (await send(`${gw.baseUrl}/api/forwarding`)).json().destinations[0].pausedUntil !== null);
    await new Promise((r) => setTimeout(r, 1500)); // several backoff rounds
    assert.deepEqual([...new Set(await states(b.study))], ['pending']);
    const overview = (await send(`${gw.baseUrl}/api/forwarding`)).json().destinations[0];
    assert.equal(overview.pendingInstances, 8);
    const metrics = (await send(`${gw.baseUrl}/metrics`)).text();
    assert.match(metrics, /^dicomweb_gateway_forward_pending_instances\{destination="orthanc",priority="ROUTINE"\} 8$/m);
    assert.match(metrics, /^dicomweb_gateway_forward_oldest_pending_by_priority_seconds\{destination="orthanc",priority="ROUTINE"\} \d+$/m);
    // Paused between probes (a probe itself takes a moment, during which it is not).
    await waitFor('the pause in the metrics', async () => /^dicomweb_gateway_forward_destination_paused\{destination="orthanc"\} 1$/m.test((await send(`${gw.baseUrl}/metrics`)).text()), 3_000);
    assert.ok(overview.oldestPendingAgeSeconds >= 1);
    await orthanc.restart();
    await allDelivered(b);
    const held = await heldByOrthanc(b.study);
    for (const [sop, bytes] of b.files) assert.equal(held.get(sop), sha(bytes));
    for (const i of (await status(b.study)).instances) assert.equal(i.destinations.orthanc.attempts, 0, 'an outage uses up no attempt');
  });

  test('STAT first: a STAT study that arrives behind a routine backlog is delivered before the backlog', async () => {
    await orthanc.kill('SIGSTOP');
    const backlog = study(3, 40);
    await stow([...backlog.files.values()]);
    const stat = study(4, 6, [{ tag: 'RequestedProcedurePriority', value: 'STAT' }]);
    await stow([...stat.files.values()]);
    assert.equal((await status(stat.study)).priority?.level, 'STAT');
    await orthanc.kill('SIGCONT');
    await allDelivered(stat);
    await allDelivered(backlog);
    const delivered = async (s: Made) => (await status(s.study)).instances.map((i) => Date.parse(i.destinations.orthanc.deliveredAt));
    const statLast = Math.max(...(await delivered(stat)));
    const routineTimes = await delivered(backlog);
    const routineBefore = routineTimes.filter((t) => t < statLast).length;
    // Routine work already in flight when Orthanc came back (2 workers x 5) may finish first; no more.
    assert.ok(routineBefore <= 10, `${routineBefore} routine instances were delivered before the STAT study was complete`);
  });

  test('a study becomes STAT as soon as one of its instances is, by rule or by an allowed X-Priority header', async () => {
    await orthanc.kill('SIGSTOP');
    const c = study(5, 3);
    await stow([...c.files.values()]);
    assert.equal((await status(c.study)).priority?.level, 'ROUTINE');
    const late = study(5, 4, [], 'stroke protocol');
    await stow([late.files.get(`${c.study}.1.4`)!]);
    const s = await status(c.study);
    assert.equal(s.priority?.level, 'STAT');
    assert.ok(s.priority!.reasons.some((r) => /rule/i.test(r)), s.priority!.reasons.join('; '));
    assert.deepEqual(new Set(s.instances.map((i) => i.destinations.orthanc.priority)), new Set(['STAT']));
    const d = study(6, 2);
    await stow([...d.files.values()], { 'x-priority': 'stat' });
    assert.equal((await status(d.study)).priority?.level, 'STAT');
    await orthanc.kill('SIGCONT');
    await allDelivered(c);
    await allDelivered(d);
  });

  test('Redis loses the queue: the reconciler rebuilds it from the outbox and nothing is lost', async () => {
    await orthanc.kill('SIGSTOP');
    const e = study(7, 30);
    await stow([...e.files.values()]);
    const deleted = await deleteRedisKeys(prefix);
    assert.ok(deleted > 0, 'the queue had keys to lose');
    await orthanc.kill('SIGCONT');
    await forwarding.reconcile();
    await allDelivered(e);
    assert.equal((await heldByOrthanc(e.study)).size, 30);
  });

  test('an instance Orthanc holds with other bytes is parked with the reason, visible, and retryable', async () => {
    const f = study(8, 3);
    const sop = `${f.study}.1.2`;
    const other = syntheticInstance({ seed: 999_999, rows: 32, columns: 32, studyUid: f.study, seriesUid: `${f.study}.1`, sopInstanceUid: sop, instanceNumber: 2, patientId: 'EDGE-8' });
    const direct = multipartBody([other]);
    const put = await send(`${orthanc.dicomwebUrl}/studies`, { method: 'POST', headers: { 'content-type': direct.contentType, accept: 'application/dicom+json' }, body: direct.body });
    assert.equal(put.status, 200);
    await stow([...f.files.values()]);
    await waitFor('the conflict to be parked', async () => (await states(f.study)).filter((x) => x !== 'pending').length === 3);
    const s = await status(f.study);
    const parked = s.instances.find((i) => i.sopInstanceUid === sop)!.destinations.orthanc;
    assert.equal(parked.state, 'failed');
    assert.match(parked.reason, /different content/);
    assert.equal(s.instances.filter((i) => i.destinations.orthanc.state === 'delivered').length, 2);
    assert.equal((await send(`${gw.baseUrl}/api/forwarding`)).json().destinations[0].failed, 1);
    const retried = await send(`${gw.baseUrl}/api/forwarding/retry`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify({ study: f.study })) });
    assert.equal(retried.status, 200, retried.text());
    assert.equal(retried.json().requeued, 1);
    await waitFor('the retried conflict to be parked again', async () => (await states(f.study)).every((x) => x !== 'pending'));
    assert.equal((await send(`${gw.baseUrl}/api/forwarding/retry`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.from('{"study":"../etc"}') })).status, 400);
  });

  test('retention: confirmed instances leave the spool, unconfirmed ones never do', async () => {
    const g = study(9, 4);
    await stow([...g.files.values()]);
    await allDelivered(g);
    const released = await forwarding.applyRetention();
    assert.ok(released >= 4, `${released} released`);
    const spool = await send(`${gw.baseUrl}/dicomweb/studies?StudyInstanceUID=${g.study}`, { headers: { accept: 'application/dicom+json' } });
    assert.equal(spool.status, 200);
    assert.deepEqual(spool.json(), []);
    for (const i of (await status(g.study)).instances) assert.ok(i.destinations.orthanc.spoolCopyReleasedAt);
    // The parked conflict of the previous case is not confirmed: its study keeps that instance.
    const parkedStudy = `${ROOT}.8`;
    const kept = await send(`${gw.baseUrl}/dicomweb/studies/${parkedStudy}/series/${parkedStudy}.1/instances`, { headers: { accept: 'application/dicom+json' } });
    assert.equal(kept.status, 200);
    assert.deepEqual(kept.json().map((r: any) => r['00080018'].Value[0]), [`${parkedStudy}.1.2`]);
    assert.equal((await heldByOrthanc(g.study)).size, 4, 'the destination keeps them');
  });

  test('the operator API refuses bad input with 400/404 and a reason', async () => {
    assert.equal((await send(`${gw.baseUrl}/api/studies/not-a-uid/status`)).status, 400);
    const unknown = await send(`${gw.baseUrl}/api/forwarding/retry?destination=nowhere`, { method: 'POST' });
    assert.equal(unknown.status, 404, unknown.text());
  });
});
