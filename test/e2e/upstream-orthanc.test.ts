/**
 * The gateway in front of a real Orthanc (1.10, DICOMweb plugin 1.7) and beside its own embedded
 * store, both loaded with the QIDO test archive through the gateway: the npm dicomweb-client (what
 * OHIF uses) searches and retrieves through /stores/orthanc/dicomweb and gets what it gets from
 * /stores/local/dicomweb. Where Orthanc departs from the standard, the case says what Orthanc does;
 * through the gateway the client gets the standard's answer.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { allFiles, qidoDataset, QIDO_ROOT } from '../fixtures/qido-dataset';
import { send } from '../helpers/http-client';
import { orthancAvailable, RunningOrthanc, startOrthanc } from '../helpers/orthanc';
import { stowAll } from '../helpers/qido-load';
import { makeTempDir } from '../helpers/temp-dir';
import { RunningGateway, startInProcessGateway } from '../helpers/test-gateway';

// eslint-disable-next-line @typescript-eslint/no-require-imports
(globalThis as Record<string, unknown>).XMLHttpRequest = require('xhr2');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { api } = require('dicomweb-client') as { api: { DICOMwebClient: new (o: { url: string; verbose?: boolean }) => Client } };

type Result = Record<string, { vr: string; Value?: any[]; BulkDataURI?: string }>;
interface Options {
  studyInstanceUID?: string;
  seriesInstanceUID?: string;
  sopInstanceUID?: string;
  frameNumbers?: number[];
  queryParams?: Record<string, string | number | boolean>;
}
interface Client {
  searchForStudies(o?: Options): Promise<Result[]>;
  searchForSeries(o?: Options): Promise<Result[]>;
  searchForInstances(o?: Options): Promise<Result[]>;
  retrieveStudyMetadata(o: Options): Promise<Result[]>;
  retrieveInstance(o: Options): Promise<ArrayBuffer>;
  retrieveInstanceFrames(o: Options): Promise<ArrayBuffer[]>;
}

const studies = qidoDataset();
const uid = (n: number) => `${QIDO_ROOT}.${n}`;
/** Orthanc 1.10 keeps only the alphabetic group of names: those with more are compared elsewhere. */
const multiGroup = new Set(studies.filter((s) => s.name.ideographic !== undefined).map((s) => s.uid));
const KEYS = ['0020000D', '0020000E', '00080018'];
const COMPARED = ['00100020', '00100010', '00080020', '00080030', '00080050', '00080061', '00201206', '00201208', '00080060', '00200011', '00201209', '00080016', '00200013', '00081030', '0008103E'];

describe('the gateway in front of Orthanc', { skip: !orthancAvailable() && 'Orthanc is not installed' }, () => {
  let orthanc: RunningOrthanc;
  let gw: RunningGateway;
  let dir: { path: string; remove(): void };
  let local: Client;
  let remote: Client;
  const localBase = () => `${gw.baseUrl}/stores/local/dicomweb`;
  const remoteBase = () => `${gw.baseUrl}/stores/orthanc/dicomweb`;

  /** Results keyed by their UIDs, the compared attributes, and the Retrieve URL without its base. */
  const project = (results: Result[], base: string) =>
    Object.fromEntries(
      results.map((r) => {
        const key = KEYS.map((k) => r[k]?.Value?.[0] ?? '').join('/');
        const row: Record<string, unknown> = {};
        for (const tag of COMPARED) {
          if (!(tag in r) || (tag === '00100010' && multiGroup.has(String(r['0020000D']?.Value?.[0])))) continue;
          const values = r[tag].Value ?? null;
          row[tag] = tag === '00080061' && values ? [...values].sort() : values;
        }
        row.url = String(r['00081190']?.Value?.[0] ?? '').replace(base, '');
        return [key, row];
      }),
    );

  before(async () => {
    orthanc = await startOrthanc();
    dir = makeTempDir('upstream-orthanc');
    const config = join(dir.path, 'gateway.yaml');
    writeFileSync(
      config,
      ['defaultStore: orthanc', 'stores:', '  - { name: local, kind: local }', '  - name: orthanc', '    kind: dicomweb', `    url: ${orthanc.dicomwebUrl}`, '    percentEncodeQuery: false', ''].join('\n'),
    );
    gw = await startInProcessGateway({ CONFIG_FILE: config, DATA_DIR: join(dir.path, 'data') });
    const files = allFiles(studies);
    await Promise.all([stowAll(localBase(), files), stowAll(remoteBase(), files)]);
    local = new api.DICOMwebClient({ url: localBase(), verbose: false });
    remote = new api.DICOMwebClient({ url: remoteBase(), verbose: false });
  });
  after(async () => {
    await gw?.stop();
    await orthanc?.stop();
    dir?.remove();
  });

  test('dicomweb-client searches at every level through /stores/orthanc/dicomweb as through the local store', async () => {
    const calls: [string, (c: Client) => Promise<Result[]>][] = [
      ['names with ^', (c) => c.searchForStudies({ queryParams: { PatientName: 'Wang^*' } })],
      ['non-ASCII letters (Orthanc cannot receive them at all)', (c) => c.searchForStudies({ queryParams: { PatientName: 'Müller*' } })],
      ['? is one character (Orthanc: one byte)', (c) => c.searchForStudies({ queryParams: { PatientName: 'M?ller*' } })],
      ['a space in a value (Orthanc cannot receive it)', (c) => c.searchForStudies({ queryParams: { StudyDescription: 'Study of MUL001' } })],
      ['date range and modality', (c) => c.searchForStudies({ queryParams: { StudyDate: '20231231-20240101', ModalitiesInStudy: 'CT' } })],
      ['includefield', (c) => c.searchForStudies({ queryParams: { PatientID: 'WAN002', includefield: '00081030' } })],
      ['includefield=all (Orthanc ignores it)', (c) => c.searchForStudies({ queryParams: { PatientID: 'MUL001', includefield: 'all' } })],
      ['series of a study', (c) => c.searchForSeries({ studyInstanceUID: uid(6) })],
      ['series across studies, with study attributes (Orthanc leaves some out)', (c) => c.searchForSeries({ queryParams: { Modality: 'MR' } })],
      ['instances of a series', (c) => c.searchForInstances({ studyInstanceUID: uid(3), seriesInstanceUID: `${uid(3)}.2` })],
      ['instances of a study', (c) => c.searchForInstances({ studyInstanceUID: uid(3), queryParams: { InstanceNumber: 1 } })],
      ['instances across studies, with series attributes', (c) => c.searchForInstances({ queryParams: { PatientID: 'MUL001' } })],
    ];
    for (const [what, call] of calls) {
      const [ours, theirs] = await Promise.all([call(local), call(remote)]);
      assert.ok(ours.length > 0, `${what}: finds something`);
      assert.deepEqual(project(theirs, remoteBase()), project(ours, localBase()), what);
    }
    const [page1, page2] = await Promise.all([remote.searchForStudies({ queryParams: { limit: 3 } }), remote.searchForStudies({ queryParams: { limit: 3, offset: 3 } })]);
    assert.equal(page1.length, 3);
    assert.equal(page2.length, 3);
  });

  test('dicomweb-client retrieves metadata, instances and frames through /stores/orthanc/dicomweb as through the local store', async () => {
    const study = studies[0];
    const ref = { studyInstanceUID: study.uid, seriesInstanceUID: study.series[0].uid, sopInstanceUID: study.series[0].instances[0].uid };
    const [ours, theirs] = await Promise.all([local.retrieveStudyMetadata({ studyInstanceUID: study.uid }), remote.retrieveStudyMetadata({ studyInstanceUID: study.uid })]);
    const bulk = (rs: Result[], base: string) => rs.map((r) => String(r['7FE00010']?.BulkDataURI).replace(base, '')).sort();
    assert.deepEqual(bulk(theirs, remoteBase()), bulk(ours, localBase()));
    assert.deepEqual(theirs.map((r) => r['00080018'].Value![0]).sort(), ours.map((r) => r['00080018'].Value![0]).sort());
    const [a, b] = await Promise.all([local.retrieveInstance(ref), remote.retrieveInstance(ref)]);
    assert.ok(Buffer.from(b).equals(Buffer.from(a)), 'the same instance bytes');
    const [fa, fb] = await Promise.all([local.retrieveInstanceFrames({ ...ref, frameNumbers: [1] }), remote.retrieveInstanceFrames({ ...ref, frameNumbers: [1] })]);
    assert.ok(Buffer.from(fb[0]).equals(Buffer.from(fa[0])), 'the same frame');
  });

  describe('where Orthanc departs from the standard, the gateway gives the standard answer', () => {
    const search = async (base: string, path: string) => {
      const res = await send(`${base}${path}`, { headers: { accept: 'application/dicom+json' } });
      assert.equal(res.status, 200, `${path}: ${res.text()}`);
      return (res.json() as Result[]).map((r) => String(r['00100020']?.Value?.[0] ?? '')).sort();
    };

    test('multiplevaluematching=true: any of the values (Orthanc drops the backslashes and finds nothing)', async () => {
      const path = '/studies?multiplevaluematching=true&ModalitiesInStudy=CT%5CPT';
      assert.deepEqual(await search(remoteBase(), path), await search(localBase(), path));
      assert.deepEqual(await search(remoteBase(), path), ['BUC001', 'GAR001', 'MUL001', 'SMI003', 'WAN002', 'YAM001']);
    });

    test('emptyvaluematching=true: "" finds an empty attribute (Orthanc does not support it)', async () => {
      assert.deepEqual(await search(remoteBase(), '/studies?emptyvaluematching=true&AccessionNumber=%22%22'), ['DOE001']);
    });

    test('URLs use the prefix the client used: the default store at /dicomweb, by name at /stores/orthanc/dicomweb', async () => {
      const viaDefault = (await send(`${gw.baseUrl}/dicomweb/studies?PatientID=MUL001`)).json() as Result[];
      assert.equal(viaDefault[0]['00081190'].Value![0], `${gw.baseUrl}/dicomweb/studies/${uid(1)}`);
      const viaName = (await send(`${remoteBase()}/studies?PatientID=MUL001`)).json() as Result[];
      assert.equal(viaName[0]['00081190'].Value![0], `${remoteBase()}/studies/${uid(1)}`);
      const metadata = (await send(`${gw.baseUrl}/dicomweb/studies/${uid(1)}/metadata`)).json() as Result[];
      assert.ok(String(metadata[0]['7FE00010'].BulkDataURI).startsWith(`${gw.baseUrl}/dicomweb/studies/${uid(1)}/`));
      assert.ok(!JSON.stringify(metadata).includes(`:${orthanc.httpPort}`), "no URL of Orthanc's");
    });

    test('GET /api/stores: both stores, their kind and health', async () => {
      const stores = (await send(`${gw.baseUrl}/api/stores`)).json() as { name: string; kind: string; default: boolean; health: { status: string; circuit?: string } }[];
      assert.deepEqual(
        stores.map((s) => [s.name, s.kind, s.default, s.health.status]),
        [
          ['local', 'local', false, 'healthy'],
          ['orthanc', 'dicomweb', true, 'healthy'],
        ],
      );
      assert.equal(stores[1].health.circuit, 'closed');
    });
  });
});
