/**
 * `npm run memory:stow`: one 1 GB STOW request (2,000 instances of 0.5 MB) sent chunked and then
 * with Content-Length to a fresh gateway process; prints the server's RSS growth for each.
 * A measurement, not a test: it never fails on a slow machine. (`npm run bench` measures the same
 * for the gateway and Orthanc side by side.)
 */
import { makeTempDir } from '../test/helpers/temp-dir';
import { startGatewayProcess } from '../test/helpers/test-gateway';
import { largeUpload } from './lib/large-upload';

const COUNT = Number(process.env.STOW_MEMORY_COUNT ?? 2000);

async function main(): Promise<void> {
  const dir = makeTempDir('stow-memory');
  const gateway = await startGatewayProcess(dir.path, { LOG_LEVEL: 'error' });
  try {
    await largeUpload(`${gateway.baseUrl}/dicomweb`, 0, true, 20); // warm-up: code paths and the index are hot before measuring
    const results = [];
    for (const [run, withLength] of [[1, false], [2, true]] as const) {
      const baseline = gateway.rssBytes();
      let peak = baseline;
      const sampler = setInterval(() => (peak = Math.max(peak, gateway.rssBytes())), 50);
      const r = await largeUpload(`${gateway.baseUrl}/dicomweb`, run, withLength, COUNT);
      clearInterval(sampler);
      peak = Math.max(peak, gateway.rssBytes());
      results.push({
        figure: 'stow-1gb-rss',
        framing: withLength ? 'content-length' : 'chunked',
        instances: COUNT,
        status: r.status,
        megabytes: +(r.bytes / 1e6).toFixed(1),
        seconds: +r.seconds.toFixed(2),
        mbPerSecond: +(r.bytes / 1e6 / r.seconds).toFixed(1),
        rssBaselineMb: +(baseline / 1e6).toFixed(1),
        rssPeakMb: +(peak / 1e6).toFixed(1),
        rssGrowthMb: +((peak - baseline) / 1e6).toFixed(1),
      });
    }
    console.log('| framing | status | MB sent | s | MB/s | RSS baseline MB | RSS peak MB | growth MB |');
    console.log('|---|---|---|---|---|---|---|---|');
    for (const r of results) {
      console.log(`| ${r.framing} | ${r.status} | ${r.megabytes} | ${r.seconds} | ${r.mbPerSecond} | ${r.rssBaselineMb} | ${r.rssPeakMb} | ${r.rssGrowthMb} |`);
    }
    for (const r of results) console.log(JSON.stringify(r));
  } finally {
    await gateway.kill('SIGTERM');
    dir.remove();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
