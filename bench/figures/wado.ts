/**
 * WADO-RS: a 200-slice CT study (512x512, about 100 MB) in both servers; study metadata cold and
 * warm, whole-study retrieve MB/s and time to first byte, single frame latency and frames/s.
 */
import { ctSeries, CtSeriesMaker, freshTag, multipart } from '../lib/data';
import { get, stow, sustainedRetrieve } from '../lib/http';
import { interleaved } from '../lib/interleave';
import { runLoad } from '../lib/load';
import { Report } from '../lib/report';
import { BenchServer } from '../lib/servers';
import { median, percentile } from '../lib/stats';

const SLICES = 200;
const DICOM = 'multipart/related; type="application/dicom"';
const OCTETS = 'multipart/related; type="application/octet-stream"';

async function loadStudy(servers: BenchServer[]): Promise<CtSeriesMaker> {
  const series = ctSeries(freshTag());
  for (let i = 0; i < SLICES; i += 50) {
    const { body, contentType } = multipart(Array.from({ length: Math.min(50, SLICES - i) }, (_, k) => series.instance(i + k)));
    await Promise.all(servers.map((s) => stow(s, body, contentType)));
  }
  return series;
}

async function ok(server: BenchServer, path: string, accept: string) {
  const r = await get(server, path, accept);
  if (r.status !== 200) throw new Error(`${server.name} GET ${path} answered ${r.status}`);
  return r;
}

export async function wadoFigures(servers: BenchServer[], report: Report, options: { repeats: number; quick: boolean }): Promise<void> {
  // Cold metadata: the first read of a study just stored, one sample per study and server.
  const studies: CtSeriesMaker[] = [];
  const cold = new Map<string, number[]>(servers.map((s) => [s.name, []]));
  for (let n = 0; n < (options.quick ? 1 : 3); n++) {
    const series = await loadStudy(servers);
    studies.push(series);
    for (const server of n % 2 === 0 ? servers : [...servers].reverse()) {
      const t0 = process.hrtime.bigint();
      await ok(server, `/studies/${series.studyUid}/metadata`, 'application/dicom+json');
      cold.get(server.name)!.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }
  report.add({ figure: `study metadata, ${SLICES} instances, cold`, unit: 'ms', better: 'lower', gateway: cold.get('gateway')!, orthanc: cold.get('orthanc') });
  const study = studies[0];

  const warm = await interleaved(servers, options.repeats, async (server) => {
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = process.hrtime.bigint();
      await ok(server, `/studies/${study.studyUid}/metadata`, 'application/dicom+json');
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    return { ms: median(times) };
  });
  report.add({ figure: `study metadata, ${SLICES} instances, warm`, unit: 'ms', better: 'lower', gateway: warm.get('gateway')!.get('ms')!, orthanc: warm.get('orthanc')?.get('ms'), target: '>= 10x' });

  const retrieve = await interleaved(servers, options.repeats, (server) => sustainedRetrieve(server, `/studies/${study.studyUid}`, DICOM, options.quick ? 1000 : 2000));
  report.add({ figure: `study retrieve, ${SLICES} x 0.5 MB`, unit: 'MB/s', better: 'higher', gateway: retrieve.get('gateway')!.get('mbps')!, orthanc: retrieve.get('orthanc')?.get('mbps'), target: '>= 1x' });
  report.add({ figure: `study retrieve, ${SLICES} x 0.5 MB`, unit: 'time to first byte ms', better: 'lower', gateway: retrieve.get('gateway')!.get('ttfb')!, orthanc: retrieve.get('orthanc')?.get('ttfb') });

  const framePath = (i: number) => `/studies/${study.studyUid}/series/${study.seriesUid}/instances/${study.sopInstanceUid(i % SLICES)}/frames/1`;
  const single = await interleaved(servers, options.repeats, async (server) => {
    const load = await runLoad({ concurrency: 1, count: options.quick ? 100 : 300, durationMs: 4000, task: (i) => ok(server, framePath(i * 7), OCTETS).then(() => undefined) });
    return { p50: percentile(load.latenciesMs, 50), p99: percentile(load.latenciesMs, 99) };
  });
  report.add({ figure: 'single frame, 1 connection', unit: 'p50 ms', better: 'lower', gateway: single.get('gateway')!.get('p50')!, orthanc: single.get('orthanc')?.get('p50'), target: '<= 1/3' });
  report.add({ figure: 'single frame, 1 connection', unit: 'p99 ms', better: 'lower', gateway: single.get('gateway')!.get('p99')!, orthanc: single.get('orthanc')?.get('p99') });

  const parallel = await interleaved(servers, options.repeats, async (server) => {
    const load = await runLoad({ concurrency: 8, count: options.quick ? 400 : 1500, durationMs: 4000, task: (i) => ok(server, framePath(i * 13), OCTETS).then(() => undefined) });
    return { fps: load.done / load.seconds };
  });
  report.add({ figure: 'frames, 8 connections', unit: 'frames/s', better: 'higher', gateway: parallel.get('gateway')!.get('fps')!, orthanc: parallel.get('orthanc')?.get('fps'), target: '>= 3x' });
}
