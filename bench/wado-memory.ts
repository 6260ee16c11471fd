/**
 * `npm run memory:wado`: stores a 1 GB study (2,000 CT slices of 0.5 MB) in a fresh gateway
 * process, then retrieves it whole with WADO-RS, as stored and transcoded-free (the default for
 * Explicit VR Little Endian data), while sampling the server's RSS; also times study metadata and
 * single frames. A measurement, not a test: it never fails on a slow machine.
 */
import { Agent, request } from 'node:http';
import { makeTempDir } from '../test/helpers/temp-dir';
import { startGatewayProcess } from '../test/helpers/test-gateway';
import { largeUpload, largeUploadUids } from './lib/large-upload';

const COUNT = Number(process.env.WADO_MEMORY_COUNT ?? 2000);
const RUN = 1;
const { studyUid: STUDY, seriesUid: SERIES, sopInstanceUid } = largeUploadUids(RUN);

function download(url: string, agent: Agent, accept?: string): Promise<{ status: number; bytes: number; seconds: number; complete: boolean }> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers: accept ? { accept } : {} }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, seconds: Number(process.hrtime.bigint() - started) / 1e9, complete: res.complete }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main(): Promise<void> {
  const dir = makeTempDir('wado-memory');
  const gateway = await startGatewayProcess(dir.path, { LOG_LEVEL: 'error' });
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  try {
    const { status } = await largeUpload(`${gateway.baseUrl}/dicomweb`, RUN, false, COUNT);
    if (status !== 200) throw new Error(`STOW answered ${status}`);
    const studyUrl = `${gateway.baseUrl}/dicomweb/studies/${STUDY}`;
    await download(`${studyUrl}/series/${SERIES}/instances/${sopInstanceUid(0)}`, agent); // warm-up
    const results: Record<string, unknown>[] = [];
    for (const [label, accept] of [['as stored (default)', undefined], ['transfer-syntax=*', 'multipart/related; type="application/dicom"; transfer-syntax=*']] as const) {
      const baseline = gateway.rssBytes();
      let peak = baseline;
      const sampler = setInterval(() => (peak = Math.max(peak, gateway.rssBytes())), 20);
      const r = await download(studyUrl, agent, accept);
      clearInterval(sampler);
      peak = Math.max(peak, gateway.rssBytes());
      results.push({
        figure: 'wado-study-1gb-rss',
        accept: label,
        instances: COUNT,
        status: r.status,
        complete: r.complete,
        megabytes: +(r.bytes / 1e6).toFixed(1),
        seconds: +r.seconds.toFixed(2),
        mbPerSecond: +(r.bytes / 1e6 / r.seconds).toFixed(0),
        rssBaselineMb: +(baseline / 1e6).toFixed(1),
        rssPeakMb: +(peak / 1e6).toFixed(1),
        rssGrowthMb: +((peak - baseline) / 1e6).toFixed(1),
      });
    }
    // Single frames, one connection then eight; and the metadata of the first 200 instances' study.
    const frameUrl = (i: number) => `${studyUrl}/series/${SERIES}/instances/${sopInstanceUid(i % COUNT)}/frames/1`;
    const latencies: number[] = [];
    for (let i = 0; i < 500; i++) latencies.push((await download(frameUrl(i), agent)).seconds * 1000);
    latencies.sort((a, b) => a - b);
    const started = process.hrtime.bigint();
    let done = 0;
    await Promise.all(Array.from({ length: 8 }, async (_, c) => {
      for (let i = 0; i < 500; i++, done++) await download(frameUrl(c * 500 + i), agent);
    }));
    const framesPerSecond = done / (Number(process.hrtime.bigint() - started) / 1e9);
    const metadata: number[] = [];
    for (let i = 0; i < 5; i++) metadata.push((await download(`${studyUrl}/metadata`, agent)).seconds * 1000);
    results.push({ figure: 'wado-frames', p50Ms: +percentile(latencies, 50).toFixed(2), p99Ms: +percentile(latencies, 99).toFixed(2), framesPerSecond8: +framesPerSecond.toFixed(0) });
    results.push({ figure: 'wado-study-metadata', instances: COUNT, bestMs: +Math.min(...metadata).toFixed(1) });
    console.log('| accept | status | complete | MB | s | MB/s | RSS baseline MB | RSS peak MB | growth MB |');
    console.log('|---|---|---|---|---|---|---|---|---|');
    for (const r of results.filter((x) => x.figure === 'wado-study-1gb-rss')) {
      console.log(`| ${r.accept} | ${r.status} | ${r.complete} | ${r.megabytes} | ${r.seconds} | ${r.mbPerSecond} | ${r.rssBaselineMb} | ${r.rssPeakMb} | ${r.rssGrowthMb} |`);
    }
    for (const r of results) console.log(JSON.stringify(r));
  } finally {
    agent.destroy();
    await gateway.kill('SIGTERM');
    dir.remove();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
