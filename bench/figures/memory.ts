/**
 * One 1 GB STOW request (2,000 instances of 0.5 MB), chunked and with Content-Length: each
 * server's RSS growth while it takes it in.
 */
import { largeUpload } from '../lib/large-upload';
import { rssSampler } from '../lib/process-stats';
import { Report } from '../lib/report';
import { BenchServer } from '../lib/servers';

let run = 100;

export async function memoryFigures(servers: BenchServer[], report: Report, options: { repeats: number; quick: boolean }): Promise<void> {
  const count = options.quick ? 400 : 2000;
  for (const withLength of [false, true]) {
    const growth = new Map<string, number[]>();
    const rate = new Map<string, number[]>();
    for (const server of servers) {
      const baseline = server.rssBytes();
      const sampler = rssSampler(server.pid);
      const r = await largeUpload(server.dicomweb, run++, withLength, count);
      const peak = sampler.stop();
      if (r.status !== 200) throw new Error(`${server.name} answered ${r.status} to the large STOW`);
      growth.set(server.name, [(peak - baseline) / 1e6]);
      rate.set(server.name, [r.bytes / 1e6 / r.seconds]);
    }
    const name = `STOW ${(count * 0.525).toFixed(0)} MB in one request, ${withLength ? 'Content-Length' : 'chunked'}`;
    report.add({ figure: name, unit: 'RSS growth MB', better: 'lower', gateway: growth.get('gateway')!, orthanc: growth.get('orthanc'), target: '< 100 MB' });
    report.add({ figure: name, unit: 'MB/s', better: 'higher', gateway: rate.get('gateway')!, orthanc: rate.get('orthanc') });
  }
}
