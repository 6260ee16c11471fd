/**
 * `node dist/bench/profile.js [local|upstream] [retrieve|frames|frame] [seconds]`: the gateway
 * (its embedded store, or in front of Orthanc) under one load, with a CPU profile of the gateway
 * written to .bench/profiles/, to see where an answer spends its time. `frames` is 8 connections,
 * `frame` and `retrieve` one. Not part of `npm run bench`.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ctSeries, freshTag, multipart } from './lib/data';
import { get, stow } from './lib/http';
import { runLoad } from './lib/load';
import { startGatewayServer, startOrthancServer } from './lib/servers';
import { startGatewayInFront } from './figures/upstream';

async function main(): Promise<void> {
  const where = process.argv[2] ?? 'local';
  const what = process.argv[3] ?? 'retrieve';
  const seconds = Number(process.argv[4] ?? 10);
  const dir = join(process.cwd(), '.bench', 'profiles');
  mkdirSync(dir, { recursive: true });
  process.env.NODE_OPTIONS = `--require ${join(__dirname, "..", "..", "bench", "lib", "cpu-profile-preload.js")}`;
  process.env.CPU_PROFILE_DIR = dir;
  const orthanc = await startOrthancServer();
  const gateway = where === 'upstream' ? await startGatewayInFront(orthanc) : await startGatewayServer();
  delete process.env.NODE_OPTIONS;
  const target = where === 'upstream' ? orthanc : gateway;
  try {
    const series = ctSeries(freshTag());
    for (let i = 0; i < 200; i += 50) {
      const { body, contentType } = multipart(Array.from({ length: 50 }, (_, k) => series.instance(i + k)));
      await stow(target, body, contentType);
    }
    const c0 = gateway.cpuSeconds();
    const load = await runLoad({
      concurrency: what === 'frames' ? 8 : 1,
      count: 1e9,
      durationMs: seconds * 1000,
      task: async (i) => {
        const path = what !== 'retrieve' ? `/studies/${series.studyUid}/series/${series.seriesUid}/instances/${series.sopInstanceUid((i * 13) % 200)}/frames/1` : `/studies/${series.studyUid}`;
        const r = await get(gateway, path, what !== 'retrieve' ? 'multipart/related; type="application/octet-stream"' : 'multipart/related; type="application/dicom"');
        if (r.status !== 200) throw new Error(`answered ${r.status}`);
      },
    });
    console.log(`${where} ${what}: ${load.done} in ${load.seconds.toFixed(1)} s, gateway CPU ${(gateway.cpuSeconds() - c0).toFixed(2)} s; profile in ${dir}`);
  } finally {
    await gateway.stop();
    await orthanc.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
