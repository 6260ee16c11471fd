/**
 * The federated view (issue 15): a gateway of its own with three members, the embedded store
 * (`site`), the bench's Orthanc (`pacs`) and the Google Cloud fake answering 200 ms late
 * (`cloud`), federated as `all`. The same search (every study of the bench patients) is timed on
 * each member through the gateway and on the federated store: the federated search should cost
 * at most the slowest member plus 10%. Then the cloud hangs (10 s) and the federated search
 * should take no more than its member timeout (1 s) plus a little.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { startGcpFake } from '../../test/fakes/gcp';
import { gcpStoreLines } from '../../test/helpers/gcp-gateway';
import { syntheticInstance } from '../../test/fixtures/dicom-builder';
import { makeTempDir } from '../../test/helpers/temp-dir';
import { freshTag, multipart } from '../lib/data';
import { Report } from '../lib/report';
import { BenchServer, startGatewayServer } from '../lib/servers';
import { median } from '../lib/stats';

const CLOUD_LATENCY_MS = 200;
const MEMBER_TIMEOUT_MS = 1_000;
const HANG_MS = 10_000;
const MEMBERS = ['site', 'pacs', 'cloud'] as const;

async function timedSearch(gateway: BenchServer, store: string, query: string): Promise<number> {
  const base = gateway.dicomweb.replace(/\/dicomweb$/, '');
  const t0 = process.hrtime.bigint();
  const res = await request(`${base}/stores/${store}/dicomweb/studies?${query}`, { headers: { accept: 'application/dicom+json' }, dispatcher: gateway.dispatcher });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`search of ${store}: ${res.statusCode} ${text.slice(0, 200)}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

export async function federatedFigures(servers: BenchServer[], report: Report, options: { repeats: number; quick: boolean }): Promise<void> {
  const orthanc = servers.find((s) => s.name === 'orthanc');
  if (!orthanc) return;
  const cloud = await startGcpFake();
  const dir = makeTempDir('bench-federated');
  let gateway: BenchServer | undefined;
  try {
    const keyFile = join(dir.path, 'key.json');
    writeFileSync(keyFile, JSON.stringify(cloud.createServiceAccountKey()));
    const config = join(dir.path, 'gateway.yaml');
    writeFileSync(
      config,
      [
        'defaultStore: all',
        'stores:',
        '  - { name: site, kind: local }',
        `  - { name: pacs, kind: dicomweb, url: "${orthanc.dicomweb}", percentEncodeQuery: false, healthCheckIntervalMs: 0 }`,
        ...gcpStoreLines('cloud', cloud, keyFile, ['retries: { attempts: 1, baseDelayMs: 10, maxDelayMs: 10 }', 'timeouts: { firstByteMs: 30000 }']),
        '  - name: all',
        '    kind: federated',
        '    members: [site, pacs, cloud]',
        `    memberTimeoutMs: ${MEMBER_TIMEOUT_MS}`,
        '',
      ].join('\n'),
    );
    gateway = await startGatewayServer({ CONFIG_FILE: config }, join(dir.path, 'data'));
    const base = gateway.dicomweb.replace(/\/dicomweb$/, '');
    // 20 studies in each member, of one bench patient (so one wildcard search finds them all).
    const tag = freshTag();
    const patient = `FEDB${tag}`;
    for (const [m, member] of MEMBERS.entries()) {
      const files = Array.from({ length: 20 }, (_, i) =>
        syntheticInstance({ seed: tag + m * 100 + i, rows: 8, columns: 8, studyUid: `1.2.826.0.1.3680043.10.9.${tag}.${m}.${i}`, patientId: patient }),
      );
      const { body, contentType } = multipart(files);
      const res = await request(`${base}/stores/${member}/dicomweb/studies`, { method: 'POST', headers: { 'content-type': contentType, accept: 'application/dicom+json' }, body, dispatcher: gateway.dispatcher });
      await res.body.text();
      if (res.statusCode !== 200) throw new Error(`loading ${member}: ${res.statusCode}`);
    }
    const query = `PatientID=${patient}&limit=100`;
    cloud.setLatencyMs(CLOUD_LATENCY_MS);
    const samples = options.quick ? 10 : 20;
    const times = new Map<string, number[]>([...MEMBERS, 'all'].map((s) => [s, []]));
    for (let r = 0; r < samples; r++) {
      // Interleaved, so that drift affects every store alike.
      for (const store of r % 2 === 0 ? [...MEMBERS, 'all'] : ['all', ...[...MEMBERS].reverse()]) times.get(store)!.push(await timedSearch(gateway, store, query));
    }
    const slowest = Math.max(...MEMBERS.map((m) => median(times.get(m)!)));
    report.add({
      figure: `federated search over 3 members (cloud +${CLOUD_LATENCY_MS} ms)`,
      unit: 'ms, vs the slowest member',
      better: 'lower',
      gateway: times.get('all')!,
      target: '<= slowest + 10%',
      note: `(members: ${MEMBERS.map((m) => `${m} ${median(times.get(m)!).toFixed(1)} ms`).join(', ')}; federated/slowest ${(median(times.get('all')!) / slowest).toFixed(3)})`,
    });
    cloud.setLatencyMs(HANG_MS);
    const hung: number[] = [];
    for (let r = 0; r < (options.quick ? 3 : 5); r++) hung.push(await timedSearch(gateway, 'all', query));
    report.add({
      figure: `federated search, one member hanging ${HANG_MS / 1000} s (member timeout ${MEMBER_TIMEOUT_MS} ms)`,
      unit: 'ms',
      better: 'lower',
      gateway: hung,
      target: `<= ${MEMBER_TIMEOUT_MS} ms + the others`,
      note: `(added over the member timeout: ${(median(hung) - MEMBER_TIMEOUT_MS).toFixed(1)} ms)`,
    });
  } finally {
    cloud.setLatencyMs(0);
    await gateway?.stop();
    await cloud.close();
    dir.remove();
  }
}
