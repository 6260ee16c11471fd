/**
 * Study event figures (issue 12), with their own gateway and a local receiving server:
 * - latency: 100 subscribers, a study made stable (POST .../complete); time until each subscriber
 *   received its signed delivery, p50 and p95 (target p95 <= 1 s);
 * - throughput: many studies made stable back to back, deliveries received per second (target
 *   >= 200/s).
 */
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { request } from 'undici';
import { syntheticInstance } from '../../test/fixtures/dicom-builder';
import { deleteRedisKeys, TEST_REDIS_URL, uniqueRedisPrefix } from '../../test/helpers/redis-keys';
import { makeTempDir } from '../../test/helpers/temp-dir';
import { startGatewayProcess } from '../../test/helpers/test-gateway';
import { multipart } from '../lib/data';
import { Report } from '../lib/report';
import { BenchServer } from '../lib/servers';
import { percentile } from '../lib/stats';

const SUBSCRIBERS = 100;
const ROOT = '1.2.826.0.1.3680043.10.7815';

export async function eventFigures(_servers: BenchServer[], report: Report, options: { repeats: number; quick: boolean }): Promise<void> {
  const arrivals = new Map<string, number[]>(); // study -> arrival times (ms)
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const study = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { data: { studyInstanceUid: string } }).data.studyInstanceUid;
      arrivals.set(study, [...(arrivals.get(study) ?? []), performance.now()]);
      res.writeHead(204).end();
    });
  });
  receiver.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  const hooks = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  const dir = makeTempDir('bench-events');
  const prefix = uniqueRedisPrefix('bench-events');
  const gw = await startGatewayProcess(dir.path, {
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    EVENTS_QUIET_PERIOD_MS: '3600000', // stability comes from POST .../complete, at a known time
    EVENTS_ALLOW_PRIVATE_WEBHOOK_TARGETS: 'true',
    EVENTS_DELIVERY_CONCURRENCY: '64',
    LOG_LEVEL: 'error',
  });
  try {
    for (let i = 0; i < SUBSCRIBERS; i++) {
      const res = await request(`${gw.baseUrl}/api/subscriptions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ url: `${hooks}/ai-${i}`, events: ['stable'] }),
      });
      await res.body.dump();
      if (res.statusCode !== 201) throw new Error(`subscription answered ${res.statusCode}`);
    }
    let n = 0;
    const stableStudy = async (): Promise<{ study: string; at: number }> => {
      const study = `${ROOT}.${process.pid}.${++n}`;
      const { body, contentType } = multipart([syntheticInstance({ seed: n, rows: 16, columns: 16, studyUid: study, seriesUid: `${study}.1`, sopInstanceUid: `${study}.1.1` })]);
      const stored = await request(`${gw.baseUrl}/dicomweb/studies`, { method: 'POST', headers: { 'content-type': contentType }, body });
      await stored.body.dump();
      const at = performance.now();
      const done = await request(`${gw.baseUrl}/api/studies/${study}/complete`, { method: 'POST' });
      await done.body.dump();
      if (done.statusCode !== 202) throw new Error(`complete answered ${done.statusCode}`);
      return { study, at };
    };
    const waitAll = async (studies: string[], ms: number) => {
      const deadline = Date.now() + ms;
      while (studies.some((s) => (arrivals.get(s)?.length ?? 0) < SUBSCRIBERS)) {
        if (Date.now() > deadline) throw new Error('deliveries did not all arrive');
        await new Promise((r) => setTimeout(r, 5));
      }
    };

    // Latency of one event to 100 subscribers.
    const p50: number[] = [];
    const p95: number[] = [];
    for (let r = 0; r < options.repeats; r++) {
      const { study, at } = await stableStudy();
      await waitAll([study], 30_000);
      const latencies = arrivals.get(study)!.map((t) => t - at);
      p50.push(percentile(latencies, 50));
      p95.push(percentile(latencies, 95));
    }
    report.add({ figure: `event to ${SUBSCRIBERS} subscribers after a study became stable`, unit: 'p50 ms', better: 'lower', gateway: p50 });
    report.add({ figure: `event to ${SUBSCRIBERS} subscribers after a study became stable`, unit: 'p95 ms', better: 'lower', gateway: p95, target: '<= 1000 ms' });

    // Sustained deliveries.
    const studies = options.quick ? 10 : 30;
    const t0 = performance.now();
    const made: string[] = [];
    for (let i = 0; i < studies; i++) made.push((await stableStudy()).study);
    await waitAll(made, 120_000);
    const seconds = (performance.now() - t0) / 1000;
    report.add({ figure: `deliveries, ${studies} studies x ${SUBSCRIBERS} subscribers`, unit: 'deliveries/s', better: 'higher', gateway: [(studies * SUBSCRIBERS) / seconds], target: '>= 200/s' });
  } finally {
    await gw.kill('SIGTERM');
    await new Promise<void>((r) => receiver.close(() => r()));
    await deleteRedisKeys(prefix);
    dir.remove();
  }
}
