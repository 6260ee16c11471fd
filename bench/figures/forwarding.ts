/**
 * Edge forwarding figures (issue 11), with their own servers: a gateway whose embedded store is
 * the spool and a fresh Orthanc as the destination.
 * - STAT latency: a 50-instance STAT study (X-Priority) uploaded to an idle gateway, then again
 *   behind a routine backlog of several GB that is being forwarded: time from the start of its
 *   upload until Orthanc confirmed every instance. Target: behind the backlog within 1.5x.
 * - Forward throughput, while the backlog drains, against what Orthanc ingests from one direct
 *   STOW client sending the same instances in the same batch size. Target: at least 0.8x.
 * The backlog is queued while Orthanc is down (killed), then Orthanc comes back and the gateway
 * forwards it: exactly what an edge does after a link outage.
 */
import { join } from 'node:path';
import { request } from 'undici';
import { deleteRedisKeys, TEST_REDIS_URL, uniqueRedisPrefix } from '../../test/helpers/redis-keys';
import { startOrthanc } from '../../test/helpers/orthanc';
import { writeEdgeGatewayConfig } from '../../test/helpers/edge-gateway-config';
import { makeTempDir } from '../../test/helpers/temp-dir';
import { startGatewayProcess } from '../../test/helpers/test-gateway';
import { ctSeries, freshTag, multipart } from '../lib/data';
import { Report } from '../lib/report';
import { BenchServer } from '../lib/servers';

const STAT_INSTANCES = 50;
const BATCH = 20;

export async function forwardingFigures(_servers: BenchServer[], report: Report, options: { repeats: number; quick: boolean }): Promise<void> {
  const backlogInstances = options.quick ? 2_000 : 10_000; // x 0.5 MB: 1 GB quick, 5 GB full
  const dir = makeTempDir('bench-edge');
  const prefix = uniqueRedisPrefix('bench-edge');
  const orthanc = await startOrthanc({ httpThreads: 50, extraConfig: { HttpCompressionEnabled: false } });
  writeEdgeGatewayConfig(dir.path, orthanc.dicomwebUrl, {
    // The defaults of a production upstream, but for a circuit that retries sooner.
    store: { retries: { attempts: 3, baseDelayMs: 100, maxDelayMs: 2000 }, timeouts: { connectMs: 5000, firstByteMs: 60000, idleMs: 60000 }, circuitBreaker: { failureThreshold: 3, openMs: 1000 } },
    destination: { batchSize: BATCH, backoff: { baseDelayMs: 200, maxDelayMs: 2000 }, retention: { mode: 'keep' } },
    edge: { priorityHeaderClients: ['*'] },
  });
  const gw = await startGatewayProcess(join(dir.path, 'data'), {
    CONFIG_FILE: join(dir.path, 'gateway.yaml'),
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    LOG_LEVEL: 'error',
    // BENCH_CPU_PROFILE=dir: a CPU profile of the gateway (bench/lib/cpu-profile-preload.js).
    ...(process.env.BENCH_CPU_PROFILE
      ? { NODE_OPTIONS: `--require ${join(__dirname, '..', '..', '..', 'bench', 'lib', 'cpu-profile-preload.js')}`, CPU_PROFILE_DIR: process.env.BENCH_CPU_PROFILE }
      : {}),
  });
  const gateway = `${gw.baseUrl}/dicomweb`;
  const api = gw.baseUrl;
  try {
    // Orthanc ingesting from one direct client, batches of BATCH: the throughput to compare with.
    const direct: number[] = [];
    for (let r = 0; r < options.repeats; r++) {
      const series = ctSeries(freshTag());
      const count = options.quick ? 200 : 400;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < count; i += BATCH) await stowTo(orthanc.dicomwebUrl, Array.from({ length: BATCH }, (_, k) => series.instance(i + k)));
      direct.push(count / (Number(process.hrtime.bigint() - t0) / 1e9));
    }

    // STAT with an empty queue.
    const empty: number[] = [];
    for (let r = 0; r < options.repeats; r++) empty.push(await timeStatStudy(gateway, api));

    // The backlog, queued while the destination is down.
    await orthanc.kill('SIGKILL');
    const perStudy = 200;
    const t0 = Date.now();
    for (let s = 0; s < backlogInstances / perStudy; s++) {
      const series = ctSeries(freshTag());
      await Promise.all(
        [0, 1].map(async (half) => {
          for (let i = half * (perStudy / 2); i < (half + 1) * (perStudy / 2); i += 50) await stowTo(gateway, Array.from({ length: 50 }, (_, k) => series.instance(i + k)));
        }),
      );
    }
    const backlogBytes = (await forwarding(api)).pendingBytes;
    console.log(`queued a backlog of ${(backlogBytes / 1e9).toFixed(2)} GB in ${((Date.now() - t0) / 1000).toFixed(0)} s; destination back`);
    await orthanc.restart();
    await waitUntil(async () => (await forwarding(api)).throughput.instances > 0, 60_000);
    await sleep(3_000); // routine forwarding in full swing

    // STAT behind the backlog, and the routine throughput meanwhile.
    const behind: number[] = [];
    const throughput: number[] = [];
    for (let r = 0; r < options.repeats; r++) {
      behind.push(await timeStatStudy(gateway, api));
      // Then routine alone for a while.
      const b2 = await forwarding(api);
      const t2 = Date.now();
      await sleep(options.quick ? 3_000 : 5_000);
      const a2 = await forwarding(api);
      if (a2.pendingInstances > 0) throughput.push((b2.pendingInstances - a2.pendingInstances) / ((Date.now() - t2) / 1000));
    }
    const gb = (backlogBytes / 1e9).toFixed(1);
    report.add({ figure: `edge: STAT study ${STAT_INSTANCES} x 0.5 MB delivered, empty queue`, unit: 'ms', better: 'lower', gateway: empty });
    report.add({ figure: `edge: STAT study ${STAT_INSTANCES} x 0.5 MB delivered, behind ${gb} GB backlog`, unit: 'ms', better: 'lower', gateway: behind });
    report.add({
      figure: 'edge: STAT behind backlog / empty queue',
      unit: 'ratio',
      better: 'lower',
      gateway: [median(behind) / median(empty)],
      target: '<= 1.5',
    });
    report.add({
      figure: `edge: forward throughput to Orthanc (batches of ${BATCH}) vs Orthanc from 1 direct STOW client`,
      unit: 'instances/s',
      better: 'higher',
      gateway: throughput.length > 0 ? throughput : [0],
      orthanc: direct,
      target: '>= 0.8x',
    });
  } finally {
    await gw.kill('SIGTERM');
    await orthanc.stop();
    await deleteRedisKeys(prefix);
    dir.remove();
  }
}

/** Uploads a fresh STAT study and waits until the destination confirmed all of it: ms. */
async function timeStatStudy(gateway: string, api: string): Promise<number> {
  const series = ctSeries(freshTag());
  const t0 = Date.now();
  await stowTo(gateway, Array.from({ length: STAT_INSTANCES }, (_, i) => series.instance(i)), { 'x-priority': 'STAT' });
  if (process.env.BENCH_VERBOSE) console.log(`STAT study uploaded in ${Date.now() - t0} ms`);
  await waitUntil(async () => {
    const res = await request(`${api}/api/studies/${series.studyUid}/status`);
    const status = (await res.body.json()) as { instances: { destinations: { orthanc: { state: string } } }[] };
    return status.instances.length === STAT_INSTANCES && status.instances.every((i) => i.destinations.orthanc.state === 'delivered');
  }, 300_000);
  return Date.now() - t0;
}

async function forwarding(api: string): Promise<{ pendingInstances: number; pendingBytes: number; throughput: { instances: number } }> {
  const res = await request(`${api}/api/forwarding`);
  return ((await res.body.json()) as { destinations: any[] }).destinations[0];
}

async function stowTo(base: string, parts: Buffer[], headers: Record<string, string> = {}): Promise<void> {
  const { body, contentType } = multipart(parts);
  const res = await request(`${base}/studies`, { method: 'POST', headers: { 'content-type': contentType, accept: 'application/dicom+json', ...headers }, body });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`STOW to ${base} answered ${res.statusCode}: ${text.slice(0, 200)}`);
}

async function waitUntil(check: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(20);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
