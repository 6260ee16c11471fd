/**
 * The gateway's overhead as a proxy: retrieve and QIDO throughput through a dicomweb store in front
 * of Orthanc, as a ratio of the same requests to Orthanc direct (aim: at least 0.8x).
 *
 * It takes the Orthanc of `servers`, starts its own gateway process whose only store is a dicomweb
 * store in front of that Orthanc, loads the data into Orthanc alone, and measures both with
 * interleaved repeats. The "gateway" column is the gateway in front of Orthanc, so the ratio column
 * is the proxy's efficiency.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ctSeries, freshTag, multipart } from '../lib/data';
import { get, stow, sustainedRetrieve } from '../lib/http';
import { interleaved } from '../lib/interleave';
import { runLoad } from '../lib/load';
import { qidoStudy } from '../lib/qido-data';
import { Report } from '../lib/report';
import { BenchServer, startGatewayServer } from '../lib/servers';
import { makeTempDir } from '../../test/helpers/temp-dir';

const SLICES = 200;
const DICOM = 'multipart/related; type="application/dicom"';
const OCTETS = 'multipart/related; type="application/octet-stream"';
const JSON_TYPE = 'application/dicom+json';

/** A gateway process whose one (default) store is a dicomweb store in front of `orthanc`. */
export async function startGatewayInFront(orthanc: BenchServer): Promise<BenchServer> {
  const dir = makeTempDir('bench-upstream');
  const configFile = join(dir.path, 'gateway.yaml');
  writeFileSync(
    configFile,
    [
      'defaultStore: orthanc',
      'stores:',
      '  - name: orthanc',
      '    kind: dicomweb',
      `    url: ${orthanc.dicomweb}`,
      '    percentEncodeQuery: false',
      '    connections: 64',
      '',
    ].join('\n'),
  );
  const gateway = await startGatewayServer({ CONFIG_FILE: configFile }, join(dir.path, 'data'));
  return {
    ...gateway,
    // Through the named-store prefix, as a client of several archives would call it.
    dicomweb: gateway.dicomweb.replace(/\/dicomweb$/, '/stores/orthanc/dicomweb'),
    cpuSeconds: gateway.cpuSeconds,
    rssBytes: gateway.rssBytes,
    stop: async () => {
      await gateway.stop();
      dir.remove();
    },
  };
}

export async function upstreamFigures(servers: BenchServer[], report: Report, options: { repeats: number; quick: boolean }): Promise<void> {
  const orthanc = servers.find((s) => s.name === 'orthanc');
  if (!orthanc) throw new Error('the upstream figure needs the Orthanc bench server');
  const inFront = await startGatewayInFront(orthanc);
  const pair = [inFront, orthanc];
  try {
    // Data goes into Orthanc only: the gateway reads it from there.
    const series = ctSeries(freshTag());
    for (let i = 0; i < SLICES; i += 50) {
      const { body, contentType } = multipart(Array.from({ length: Math.min(50, SLICES - i) }, (_, k) => series.instance(i + k)));
      await stow(orthanc, body, contentType);
    }
    const studies = options.quick ? 50 : 200;
    const uids: string[] = [];
    for (let i = 0; i < studies; i += 8) {
      const batch = Array.from({ length: Math.min(8, studies - i) }, (_, k) => qidoStudy(i + k, `1.2.826.0.1.3680043.10.7${freshTag()}`));
      const { body, contentType } = multipart(batch.flatMap((s) => s.instances));
      await stow(orthanc, body, contentType);
      uids.push(...batch.map((s) => s.studyUid));
    }

    const retrieve = await interleaved(pair, options.repeats, (server) => sustainedRetrieve(server, `/studies/${series.studyUid}`, DICOM, options.quick ? 1000 : 2000));
    add(report, `via gateway: study retrieve, ${SLICES} x 0.5 MB`, 'MB/s', retrieve);

    const frames = await interleaved(pair, options.repeats, async (server) => {
      const path = (i: number) => `/studies/${series.studyUid}/series/${series.seriesUid}/instances/${series.sopInstanceUid((i * 13) % SLICES)}/frames/1`;
      const load = await runLoad({ concurrency: 8, count: options.quick ? 300 : 1000, durationMs: 3000, task: (i) => ok(server, path(i), OCTETS).then(() => undefined) });
      return { rps: load.done / load.seconds };
    });
    add(report, 'via gateway: frames, 8 connections', 'frames/s', frames);

    const queries: { name: string; path: (i: number) => string }[] = [
      { name: 'QIDO PatientID', path: (i) => `/studies?PatientID=PID${String((i * 37) % Math.min(400, studies)).padStart(4, '0')}` },
      { name: 'QIDO PatientName prefix*', path: (i) => `/studies?PatientName=${['SMITH', 'WANG', 'MULLER', 'KIM', 'GARCIA'][i % 5]}*` },
      { name: 'QIDO series of a study', path: (i) => `/studies/${uids[(i * 131) % uids.length]}/series` },
    ];
    for (const q of queries) {
      for (const connections of [1, 8]) {
        const results = await interleaved(pair, options.repeats, async (server) => {
          const load = await runLoad({ concurrency: connections, count: options.quick ? 150 : 600, durationMs: options.quick ? 1500 : 3000, task: (i) => ok(server, q.path(i), JSON_TYPE).then(() => undefined) });
          return { rps: load.done / load.seconds };
        });
        add(report, `via gateway: ${q.name}, ${connections} conn`, 'requests/s', results);
      }
    }
  } finally {
    await inFront.stop();
  }
}

function add(report: Report, figure: string, unit: string, results: Map<string, Map<string, number[]>>): void {
  const [key] = [...results.get('gateway')!.keys()]; // the first metric of each measurement
  report.add({
    figure,
    unit,
    better: 'higher',
    gateway: results.get('gateway')!.get(key)!,
    orthanc: results.get('orthanc')!.get(key)!,
    target: '>= 0.8x',
    note: '(gateway in front of Orthanc vs Orthanc direct)',
  });
}

async function ok(server: BenchServer, path: string, accept: string) {
  const r = await get(server, path, accept);
  if (r.status !== 200) throw new Error(`${server.name} GET ${path} answered ${r.status}`);
  return r;
}
