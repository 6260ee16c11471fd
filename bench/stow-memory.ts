/**
 * `npm run memory:stow`: one 1 GB STOW request (2,000 instances of 0.5 MB) sent chunked and then
 * with Content-Length to a fresh gateway process; prints the server's RSS growth for each.
 * A measurement, not a test: it never fails on a slow machine.
 */
import { request } from 'node:http';
import { makeTempDir } from '../test/helpers/temp-dir';
import { startGatewayProcess } from '../test/helpers/test-gateway';
import { syntheticInstance } from '../test/fixtures/dicom-builder';

const COUNT = Number(process.env.STOW_MEMORY_COUNT ?? 2000);
const BOUNDARY = 'bench-boundary-5f2a9c';
const UID_ROOT = '1.2.826.0.1.3680043.10.4000';

/** One 0.5 MB CT slice; copies differ only in a fixed-width SOP Instance UID suffix. */
function template(run: number): { bytes: Buffer; marker: string } {
  const marker = `${UID_ROOT}.${run}.1.9000000`;
  const bytes = syntheticInstance({
    studyUid: `${UID_ROOT}.${run}`,
    seriesUid: `${UID_ROOT}.${run}.1`,
    sopInstanceUid: marker,
    rows: 512,
    columns: 512,
    seed: run,
  });
  return { bytes, marker };
}

function* parts(run: number, count: number): Generator<Buffer> {
  const { bytes, marker } = template(run);
  const positions: number[] = [];
  for (let at = bytes.indexOf(marker); at >= 0; at = bytes.indexOf(marker, at + 1)) positions.push(at);
  const head = Buffer.from(`--${BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n`);
  for (let i = 0; i < count; i++) {
    const copy = Buffer.from(bytes);
    const suffix = String(9000000 + i);
    for (const at of positions) copy.write(suffix, at + marker.length - suffix.length, 'latin1');
    yield head;
    yield copy;
    yield Buffer.from('\r\n');
  }
  yield Buffer.from(`--${BOUNDARY}--\r\n`);
}

function bodyLength(run: number, count: number): number {
  let total = 0;
  for (const p of parts(run, count)) total += p.length;
  return total;
}

async function upload(baseUrl: string, run: number, withLength: boolean, count = COUNT): Promise<{ status: number; seconds: number; bytes: number }> {
  const length = withLength ? bodyLength(run, count) : undefined;
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'content-type': `multipart/related; type="application/dicom"; boundary=${BOUNDARY}` };
    if (length !== undefined) headers['content-length'] = length;
    let sent = 0;
    const req = request(`${baseUrl}/dicomweb/studies`, { method: 'POST', headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, seconds: Number(process.hrtime.bigint() - started) / 1e9, bytes: sent }));
    });
    req.on('error', reject);
    const it = parts(run, count);
    const pump = () => {
      for (;;) {
        const next = it.next();
        if (next.done) return void req.end();
        sent += next.value.length;
        if (!req.write(next.value)) return void req.once('drain', pump);
      }
    };
    pump();
  });
}

async function main(): Promise<void> {
  const dir = makeTempDir('stow-memory');
  const gateway = await startGatewayProcess(dir.path, { LOG_LEVEL: 'error' });
  try {
    await upload(gateway.baseUrl, 0, true, 20); // warm-up: code paths and the index are hot before measuring
    const results = [];
    for (const [run, withLength] of [[1, false], [2, true]] as const) {
      const baseline = gateway.rssBytes();
      let peak = baseline;
      const sampler = setInterval(() => (peak = Math.max(peak, gateway.rssBytes())), 50);
      const r = await upload(gateway.baseUrl, run, withLength);
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
