/**
 * The npm dicomweb-client (what OHIF uses) searches the gateway: searchForStudies, searchForSeries
 * and searchForInstances with the query parameters as it encodes them (encodeURIComponent: '^'
 * as %5E, UTF-8 escapes), in Node through the xhr2 XMLHttpRequest polyfill.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RunningGateway, startInProcessGateway } from '../helpers/test-gateway';
import { stowAll } from '../helpers/qido-load';
import { allFiles, qidoDataset, QIDO_ROOT } from '../fixtures/qido-dataset';

// eslint-disable-next-line @typescript-eslint/no-require-imports
(globalThis as Record<string, unknown>).XMLHttpRequest = require('xhr2');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { api } = require('dicomweb-client') as { api: { DICOMwebClient: new (o: { url: string; verbose?: boolean }) => SearchClient } };

type Result = Record<string, { vr: string; Value?: any[] }>;
interface SearchOptions {
  studyInstanceUID?: string;
  seriesInstanceUID?: string;
  queryParams?: Record<string, string | number | boolean>;
}
interface SearchClient {
  searchForStudies(o?: SearchOptions): Promise<Result[]>;
  searchForSeries(o?: SearchOptions): Promise<Result[]>;
  searchForInstances(o?: SearchOptions): Promise<Result[]>;
}

const uid = (n: number) => `${QIDO_ROOT}.${n}`;
const values = (rs: Result[], tag: string) => rs.map((r) => r[tag]?.Value?.[0]);

describe('dicomweb-client searches the gateway', () => {
  let gw: RunningGateway;
  let client: SearchClient;
  before(async () => {
    gw = await startInProcessGateway();
    await stowAll(`${gw.baseUrl}/dicomweb`, allFiles(qidoDataset()));
    // verbose: false, or the expected 400 below is printed to the console.
    client = new api.DICOMwebClient({ url: `${gw.baseUrl}/dicomweb`, verbose: false });
  });
  after(async () => gw.stop());

  test('searchForStudies: names with ^ and non-ASCII letters, dates, modalities, paging', async () => {
    assert.deepEqual(values(await client.searchForStudies({ queryParams: { PatientName: 'Wang^*' } }), '00100020'), ['WAN001', 'WAN002']);
    assert.deepEqual(values(await client.searchForStudies({ queryParams: { PatientName: 'Müller*' } }), '00100020'), ['MUL001']);
    assert.deepEqual(values(await client.searchForStudies({ queryParams: { PatientName: '山田^太郎' } }), '00100020'), ['YAM001']);
    assert.deepEqual(values(await client.searchForStudies({ queryParams: { PatientName: 'jose', fuzzymatching: true } }), '00100020'), ['GAR001']);
    assert.deepEqual(values(await client.searchForStudies({ queryParams: { StudyDate: '20231231-20240101', ModalitiesInStudy: 'CT' } }), '00100020'), ['MUL001', 'SMI003', 'GAR001']);
    const page = await client.searchForStudies({ queryParams: { limit: 3, offset: 3, includefield: '00081030,00080060' } });
    assert.deepEqual(values(page, '00100020'), ['FRA001', 'WAN001', 'WAN002']);
    assert.deepEqual(page[0]['00081030'].Value, ['Study of FRA001']);
    assert.equal(page[0]['00080060'], undefined, 'a series attribute is not returned for studies');
    assert.deepEqual(page[2]['00080061'].Value, ['CT', 'MR', 'PT']);
  });

  test('searchForSeries: of a study, and across studies', async () => {
    const ofStudy = await client.searchForSeries({ studyInstanceUID: uid(6) });
    assert.deepEqual(values(ofStudy, '0020000E'), [`${uid(6)}.1`, `${uid(6)}.2`, `${uid(6)}.3`]);
    assert.deepEqual(values(ofStudy, '00201209'), [2, 2, 2]);
    const mr = await client.searchForSeries({ queryParams: { Modality: 'MR' } });
    assert.deepEqual(values(mr, '00100020'), ['MUL002', 'WAN001', 'WAN002', 'YAM002']);
  });

  test('searchForInstances: of a series, of a study, and across studies', async () => {
    const ofSeries = await client.searchForInstances({ studyInstanceUID: uid(3), seriesInstanceUID: `${uid(3)}.2` });
    assert.deepEqual(values(ofSeries, '00080018'), [`${uid(3)}.2.1`, `${uid(3)}.2.2`]);
    assert.deepEqual(values(ofSeries, '00081190'), ofSeries.map((r) => `${gw.baseUrl}/dicomweb/studies/${uid(3)}/series/${uid(3)}.2/instances/${r['00080018'].Value![0]}`));
    const ofStudy = await client.searchForInstances({ studyInstanceUID: uid(3), queryParams: { InstanceNumber: 1 } });
    assert.deepEqual(values(ofStudy, '00080018'), [`${uid(3)}.1.1`, `${uid(3)}.2.1`]);
    const all = await client.searchForInstances({ queryParams: { PatientID: 'YAM001' } });
    assert.equal(all.length, 2);
    assert.deepEqual(all[0]['00100010'].Value, [{ Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎', Phonetic: 'やまだ^たろう' }]);
  });

  test('a bad query rejects with the 400', async () => {
    await assert.rejects(client.searchForStudies({ queryParams: { StudyDate: '2024-01-01' } }), (e: { status?: number }) => e.status === 400);
  });
});
