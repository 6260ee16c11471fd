/**
 * Metadata cache figures (issue 10), with their own servers: a gateway whose store "cloud" is a
 * slow DICOMweb upstream (Orthanc behind test/fakes/indexing-upstream.ts: +300 ms per answer, new
 * studies visible only after 30 s), the real Redis under a key prefix of the run.
 * - warm study metadata of 200 instances: p50 through the gateway against the upstream direct;
 * - how soon metadata of a study just stored through the gateway is available there, while the
 *   upstream still hides it;
 * - the cache hit ratio over the run and Redis memory per cached instance.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import IORedis from 'ioredis';
import { request } from 'undici';
import { startIndexingUpstream } from '../../test/fakes/indexing-upstream';
import { startOrthanc } from '../../test/helpers/orthanc';
import { deleteRedisKeys, TEST_REDIS_URL, uniqueRedisPrefix } from '../../test/helpers/redis-keys';
import { makeTempDir } from '../../test/helpers/temp-dir';
import { startGatewayProcess } from '../../test/helpers/test-gateway';
import { ctSeries, freshTag, multipart } from '../lib/data';
import { Report } from '../lib/report';
import { BenchServer } from '../lib/servers';
import { percentile } from '../lib/stats';

const INSTANCES = 200;
const LATENCY_MS = 300;
const VISIBILITY_MS = 30_000;

export async function metadataCacheFigures(_servers: BenchServer[], report: Report, options: { repeats: number; quick: boolean }): Promise<void> {
  const dir = makeTempDir('bench-cache');
  const prefix = uniqueRedisPrefix('bench-cache');
  const orthanc = await startOrthanc({ httpThreads: 50, extraConfig: { HttpCompressionEnabled: false } });
  const cloud = await startIndexingUpstream({ target: orthanc.dicomwebUrl, latencyMs: LATENCY_MS, visibilityDelayMs: VISIBILITY_MS });
  writeFileSync(
    join(dir.path, 'gateway.yaml'),
    ['stores:', '  - name: cloud', '    kind: dicomweb', `    url: ${cloud.url}`, '    percentEncodeQuery: false', '    verifyDuplicates: false', ''].join('\n'),
  );
  const gw = await startGatewayProcess(join(dir.path, 'data'), { CONFIG_FILE: join(dir.path, 'gateway.yaml'), REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: prefix, LOG_LEVEL: 'error' });
  const gateway = `${gw.baseUrl}/dicomweb`;
  try {
    // A 200-instance study already in the upstream (small slices: metadata is what is measured).
    const series = ctSeries(freshTag(), 64, 64);
    for (let i = 0; i < INSTANCES; i += 50) await stowTo(orthanc.dicomwebUrl, Array.from({ length: 50 }, (_, k) => series.instance(i + k)));
    const path = `/studies/${series.studyUid}/metadata`;
    const cold = await timed(gateway + path);
    const warm: number[] = [];
    for (let i = 0; i < (options.quick ? 100 : 300); i++) warm.push(await timed(gateway + path));
    const direct: number[] = [];
    for (let i = 0; i < (options.quick ? 3 : 5); i++) direct.push(await timed(cloud.url + path));
    report.add({ figure: `cached study metadata, ${INSTANCES} instances, upstream +${LATENCY_MS} ms: warm p50`, unit: 'ms', better: 'lower', gateway: [percentile(warm, 50)], orthanc: [percentile(direct, 50)], target: '<= 5 ms and >= 20x', note: '(Orthanc column: the upstream direct)' });
    report.add({ figure: 'cached study metadata: cold (first read, through the upstream)', unit: 'ms', better: 'lower', gateway: [cold] });

    // Stored through the gateway; the upstream shows it only after VISIBILITY_MS.
    const available: number[] = [];
    for (let r = 0; r < options.repeats; r++) {
      const fresh = ctSeries(freshTag(), 64, 64);
      await stowTo(gateway, Array.from({ length: 20 }, (_, i) => fresh.instance(i)));
      const t0 = process.hrtime.bigint();
      const res = await request(`${gateway}/studies/${fresh.studyUid}/metadata`, { headers: { accept: 'application/dicom+json' } });
      const body = (await res.body.json()) as unknown[];
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (res.statusCode !== 200 || body.length !== 20) throw new Error(`metadata of a study just stored: ${res.statusCode}, ${body.length} instances`);
      const upstream = await request(`${cloud.url}/studies/${fresh.studyUid}/metadata`, { headers: { accept: 'application/dicom+json' } });
      await upstream.body.dump();
      if (upstream.statusCode !== 404) throw new Error(`the upstream shows the study already (${upstream.statusCode}): the figure would be meaningless`);
      available.push(ms);
    }
    report.add({ figure: `metadata of a study just stored through the gateway (upstream shows it after ${VISIBILITY_MS / 1000} s)`, unit: 'ms after the STOW returned', better: 'lower', gateway: available, target: '<= 100 ms' });

    const health = (await (await request(`${gw.baseUrl}/health/ready`)).body.json()) as { metadataCache: { hits: number; misses: number } };
    const { hits, misses } = health.metadataCache;
    report.add({ figure: 'metadata cache hit ratio over the figure', unit: 'ratio', better: 'higher', gateway: [hits / Math.max(1, hits + misses)] });
    const redis = new IORedis(TEST_REDIS_URL);
    try {
      const bytes = Number(await redis.call('MEMORY', 'USAGE', `${prefix}:meta:cloud:${series.studyUid}`, 'SAMPLES', '0'));
      report.add({ figure: 'Redis memory per cached instance (CT slice header, gzip)', unit: 'bytes', better: 'lower', gateway: [bytes / INSTANCES] });
    } finally {
      redis.disconnect();
    }
  } finally {
    await gw.kill('SIGTERM');
    await cloud.close();
    await orthanc.stop();
    await deleteRedisKeys(prefix);
    dir.remove();
  }
}

async function timed(url: string): Promise<number> {
  const t0 = process.hrtime.bigint();
  const res = await request(url, { headers: { accept: 'application/dicom+json' } });
  await res.body.arrayBuffer();
  if (res.statusCode !== 200) throw new Error(`${url} answered ${res.statusCode}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function stowTo(base: string, parts: Buffer[]): Promise<void> {
  const { body, contentType } = multipart(parts);
  const res = await request(`${base}/studies`, { method: 'POST', headers: { 'content-type': contentType, accept: 'application/dicom+json' }, body });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`STOW to ${base} answered ${res.statusCode}: ${text.slice(0, 200)}`);
}
