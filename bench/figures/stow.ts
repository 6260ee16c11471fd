/**
 * STOW-RS throughput: one instance per request at 1 and 8 concurrent requests, and 50 instances
 * per request; MB/s, instances/s and server CPU per instance.
 */
import { request } from 'undici';
import { ctSeries, freshTag, multipart } from '../lib/data';
import { interleaved } from '../lib/interleave';
import { runLoad } from '../lib/load';
import { Report } from '../lib/report';
import { BenchServer } from '../lib/servers';

async function post(server: BenchServer, parts: Buffer[]): Promise<void> {
  const { body, contentType } = multipart(parts);
  const res = await request(`${server.dicomweb}/studies`, {
    method: 'POST',
    headers: { 'content-type': contentType, accept: 'application/dicom+json' },
    body,
    dispatcher: server.dispatcher,
  });
  await res.body.dump();
  if (res.statusCode !== 200) throw new Error(`${server.name} STOW answered ${res.statusCode}`);
}

export async function stowFigures(servers: BenchServer[], report: Report, options: { repeats: number; quick: boolean }): Promise<void> {
  const scenarios = [
    { name: 'STOW 1 instance/request, 1 client', perRequest: 1, concurrency: 1, instances: options.quick ? 40 : 150 },
    { name: 'STOW 1 instance/request, 8 clients', perRequest: 1, concurrency: 8, instances: options.quick ? 80 : 300 },
    { name: 'STOW 50 instances/request, 1 client', perRequest: 50, concurrency: 1, instances: options.quick ? 100 : 300 },
  ];
  for (const s of scenarios) {
    const results = await interleaved(servers, options.repeats, async (server) => {
      const series = ctSeries(freshTag());
      const requests = Math.ceil(s.instances / s.perRequest);
      // Build the bodies before the clock starts: we measure the server, not the generator.
      const batches = Array.from({ length: requests }, (_, r) =>
        Array.from({ length: s.perRequest }, (_, k) => series.instance(r * s.perRequest + k)),
      );
      const bytes = batches.reduce((n, b) => n + b.reduce((m, p) => m + p.length, 0), 0);
      const cpu0 = server.cpuSeconds();
      const load = await runLoad({ concurrency: s.concurrency, count: requests, task: (i) => post(server, batches[i]) });
      const cpu = server.cpuSeconds() - cpu0;
      return {
        mbps: bytes / 1e6 / load.seconds,
        ips: s.instances / load.seconds,
        cpuMsPerInstance: (cpu * 1000) / s.instances,
      };
    });
    const g = results.get('gateway')!;
    const o = results.get('orthanc');
    report.add({ figure: `${s.name}`, unit: 'MB/s', better: 'higher', gateway: g.get('mbps')!, orthanc: o?.get('mbps'), target: '>= 3x' });
    report.add({ figure: `${s.name}`, unit: 'instances/s', better: 'higher', gateway: g.get('ips')!, orthanc: o?.get('ips') });
    report.add({ figure: `${s.name}`, unit: 'server CPU ms/instance', better: 'lower', gateway: g.get('cpuMsPerInstance')!, orthanc: o?.get('cpuMsPerInstance') });
  }
}
