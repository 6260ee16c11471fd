/**
 * QIDO-RS: the same 1,000-study archive in both servers; PatientID, PatientName prefix wildcard,
 * StudyDate range with limit=100, and series of a study, at 1 and 16 connections.
 */
import { multipart } from '../lib/data';
import { get, stow } from '../lib/http';
import { interleaved } from '../lib/interleave';
import { runLoad } from '../lib/load';
import { qidoStudy } from '../lib/qido-data';
import { Report } from '../lib/report';
import { BenchServer } from '../lib/servers';
import { percentile } from '../lib/stats';

export async function loadQidoArchive(servers: BenchServer[], studies: number): Promise<string[]> {
  const uids: string[] = [];
  for (let i = 0; i < studies; i += 8) {
    const batch = Array.from({ length: Math.min(8, studies - i) }, (_, k) => qidoStudy(i + k));
    const { body, contentType } = multipart(batch.flatMap((s) => s.instances));
    await Promise.all(servers.map((s) => stow(s, body, contentType)));
    uids.push(...batch.map((s) => s.studyUid));
  }
  return uids;
}

export async function qidoFigures(servers: BenchServer[], report: Report, options: { repeats: number; quick: boolean }): Promise<void> {
  // Quick mode only proves the figure runs: a quarter of the archive.
  const studies = options.quick ? 250 : 1000;
  const t0 = Date.now();
  const uids = await loadQidoArchive(servers, studies);
  console.log(`loaded ${studies} studies x 3 series x 2 instances into both in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  const queries: { name: string; path: (i: number) => string; target: string }[] = [
    { name: 'QIDO PatientID', path: (i) => `/studies?PatientID=PID${String((i * 37) % Math.min(400, studies)).padStart(4, '0')}`, target: '>= 3x' },
    { name: 'QIDO PatientName prefix*', path: (i) => `/studies?PatientName=${['SMITH', 'WANG', 'MULLER', 'KIM', 'GARCIA'][i % 5]}*`, target: '>= 10x' },
    { name: 'QIDO StudyDate range, limit=100', path: (i) => `/studies?StudyDate=${2000 + (i % 20)}0101-${2004 + (i % 20)}1231&limit=100`, target: '>= 10x' },
    { name: 'QIDO series of a study', path: (i) => `/studies/${uids[(i * 131) % uids.length]}/series`, target: '>= 3x' },
  ];
  const requests = options.quick ? 200 : 1000;
  for (const q of queries) {
    for (const connections of [1, 16]) {
      const results = await interleaved(servers, options.repeats, async (server) => {
        const cpu0 = server.cpuSeconds();
        const load = await runLoad({
          concurrency: connections,
          count: requests,
          // Bounded in time too: Orthanc needs 50 ms for some of these queries.
          durationMs: options.quick ? 1500 : 3000,
          task: async (i) => {
            const r = await get(server, q.path(i), 'application/dicom+json');
            if (r.status !== 200) throw new Error(`${server.name} ${q.path(i)} answered ${r.status}`);
          },
        });
        return {
          rps: load.done / load.seconds,
          p50: percentile(load.latenciesMs, 50),
          p95: percentile(load.latenciesMs, 95),
          p99: percentile(load.latenciesMs, 99),
          cpuMs: ((server.cpuSeconds() - cpu0) * 1000) / load.done,
        };
      });
      const g = results.get('gateway')!;
      const o = results.get('orthanc');
      const name = `${q.name}, ${connections} conn`;
      report.add({ figure: name, unit: 'requests/s', better: 'higher', gateway: g.get('rps')!, orthanc: o?.get('rps'), target: q.target });
      report.add({ figure: name, unit: 'p50 ms', better: 'lower', gateway: g.get('p50')!, orthanc: o?.get('p50') });
      report.add({ figure: name, unit: 'p95 ms', better: 'lower', gateway: g.get('p95')!, orthanc: o?.get('p95') });
      report.add({ figure: name, unit: 'p99 ms', better: 'lower', gateway: g.get('p99')!, orthanc: o?.get('p99') });
      report.add({ figure: name, unit: 'server CPU ms/query', better: 'lower', gateway: g.get('cpuMs')!, orthanc: o?.get('cpuMs'), target: connections === 1 && q.name !== 'QIDO series of a study' ? '< 1 ms' : undefined });
    }
  }
}
