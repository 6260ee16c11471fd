/**
 * How cost grows with the archive (gateway only: filling Orthanc with 100,000 studies would take
 * hours): QIDO by PatientID, AccessionNumber and Study Instance UID, and STOW instances/s, with
 * 1,000, 10,000 and 100,000 studies in the index.
 */
import { ctSeries, freshTag, multipart } from '../lib/data';
import { get, stow } from '../lib/http';
import { fillIndex, scaleAccession, scalePatientId, scaleStudyUid } from '../lib/index-fill';
import { runLoad } from '../lib/load';
import { Report } from '../lib/report';
import { startGatewayServer } from '../lib/servers';
import { makeTempDir } from '../../test/helpers/temp-dir';
import { percentile } from '../lib/stats';

export async function scaleFigures(_servers: unknown, report: Report, options: { repeats: number; quick: boolean }): Promise<void> {
  const sizes = options.quick ? [1000, 10000] : [1000, 10000, 100000];
  const costAt = new Map<string, number[]>();
  for (const studies of sizes) {
    const dir = makeTempDir('bench-scale');
    const t0 = Date.now();
    await fillIndex(dir.path, studies);
    console.log(`filled ${studies} studies in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const server = await startGatewayServer({}, dir.path);
    try {
      const queries: [string, (i: number) => string][] = [
        ['PatientID', (i) => `/studies?PatientID=${scalePatientId((i * 7919) % studies)}`],
        ['AccessionNumber', (i) => `/studies?AccessionNumber=${scaleAccession((i * 7919) % studies)}`],
        ['StudyInstanceUID', (i) => `/studies?StudyInstanceUID=${scaleStudyUid((i * 7919) % studies)}`],
      ];
      for (const [name, path] of queries) {
        await runLoad({ concurrency: 1, count: 50, task: (i) => get(server, path(i), 'application/dicom+json').then(() => undefined) });
        const cpu0 = server.cpuSeconds();
        const n = options.quick ? 300 : 1000;
        const load = await runLoad({ concurrency: 1, count: n, task: (i) => get(server, path(i + 50), 'application/dicom+json').then((r) => { if (r.status !== 200) throw new Error(`${path(i)} -> ${r.status}`); }) });
        const cpuMs = ((server.cpuSeconds() - cpu0) * 1000) / n;
        if (!costAt.has(name)) costAt.set(name, []);
        costAt.get(name)!.push(cpuMs);
        report.add({ figure: `scale ${studies} studies: QIDO ${name}`, unit: 'server CPU ms/query', better: 'lower', gateway: [cpuMs] });
        report.add({ figure: `scale ${studies} studies: QIDO ${name}`, unit: 'p50 ms', better: 'lower', gateway: [percentile(load.latenciesMs, 50)] });
      }
      const series = ctSeries(freshTag());
      const load = await runLoad({ concurrency: 1, count: 60, task: async (i) => { const { body, contentType } = multipart([series.instance(i)]); await stow(server, body, contentType); } });
      report.add({ figure: `scale ${studies} studies: STOW 1 instance/request`, unit: 'instances/s', better: 'higher', gateway: [load.done / load.seconds] });
    } finally {
      await server.stop();
      dir.remove();
    }
  }
  for (const [name, costs] of costAt) {
    report.add({ figure: `scale: QIDO ${name} cost at ${sizes[sizes.length - 1]} / at ${sizes[0]} studies`, unit: 'ratio', better: 'lower', gateway: [costs[costs.length - 1] / costs[0]], target: '<= 2' });
  }
}
