/**
 * The QIDO-RS searches of the HealthImaging fake over HTTP: HealthImaging's key lists per level,
 * its limits (limit, offset, includefield) and 400 ValidationException beyond them, its orders,
 * percent-decoded values, Accept, and results that carry their higher levels' attributes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { syntheticInstance, uidFromSeed } from '../fixtures/dicom-builder';
import { HealthImagingFake, startHealthImagingFake } from '../fakes/healthimaging';
import { DicomJson, FakeClient, fakeClient, firstValue } from '../fakes/healthimaging/test-client/fake-clients';

let fake: HealthImagingFake;
let client: FakeClient;
const study = (s: number) => uidFromSeed(s, 'q-study');
const series = (s: number, k: number) => uidFromSeed(`${s}.${k}`, 'q-series');
const sop = (s: number, k: number, i: number) => uidFromSeed(`${s}.${k}.${i}`, 'q-sop');

before(async () => {
  fake = await startHealthImagingFake({ qidoMaxLimit: 20, qidoMaxOffset: 100, qidoMaxIncludeFields: 3 });
  client = fakeClient(fake);
  // Stored in this order: study 2 last, so it is the most recently updated.
  const put = (s: number, k: number, i: number, extra: Parameters<typeof syntheticInstance>[0] = {}) =>
    syntheticInstance({ seed: s * 100 + k * 10 + i, studyUid: study(s), seriesUid: series(s, k), sopInstanceUid: sop(s, k, i), seriesNumber: k, instanceNumber: i, rows: 8, columns: 8, ...extra });
  const files = [
    put(1, 3, 2, { patientName: 'Thomas^Albert', patientId: 'Q1' }),
    put(1, 1, 1, { patientName: 'Thomas^Albert', patientId: 'Q1' }),
    put(1, 3, 1, { patientName: 'Thomas^Albert', patientId: 'Q1' }),
    put(3, 1, 1, { patientName: 'Zeta^Zed', patientId: 'Q+3', studyDate: '20220202' }),
    put(2, 1, 1, { patientName: 'Doe^Jane', patientId: 'Q2', studyDate: '20230303' }),
  ];
  for (const f of files) assert.equal((await client.stow([f])).status, 200);
});
after(() => fake.close());

const values = (results: DicomJson[], tag: string) => results.map((r) => firstValue(r, tag));
async function search(path: string): Promise<DicomJson[]> {
  const answer = await client.get(path);
  assert.equal(answer.status, 200, `${path}: ${answer.text()}`);
  assert.equal(answer.headers['content-type'], 'application/dicom+json');
  return answer.json<DicomJson[]>();
}
async function refused(path: string, pattern: RegExp): Promise<void> {
  const answer = await client.get(path);
  assert.equal(answer.status, 400, `${path}: ${answer.text()}`);
  assert.equal(answer.headers['x-amzn-errortype'], 'ValidationException');
  assert.match(answer.json<{ message: string }>().message, pattern);
}

describe('QIDO on the HealthImaging fake', () => {
  test('orders: studies by last update descending, series by SeriesNumber, a series\' instances by InstanceNumber', async () => {
    assert.deepEqual(values(await search('/studies'), '0020000D'), [study(2), study(3), study(1)]);
    assert.deepEqual(values(await search(`/studies/${study(1)}/series`), '00200011'), [1, 3]);
    assert.deepEqual(values(await search(`/studies/${study(1)}/series/${series(1, 3)}/instances`), '00200013'), [1, 2]);
    assert.deepEqual(values(await search(`/studies/${study(1)}/instances`), '00080018'), [sop(1, 3, 1), sop(1, 1, 1), sop(1, 3, 2)], 'study instances by last update');
  });

  test('matching by keyword or tag, percent-decoded values ("+" literal), fuzzy names, ranges, UID lists', async () => {
    assert.deepEqual(values(await search('/studies?PatientID=Q%2B3'), '00100020'), ['Q+3']);
    assert.deepEqual(values(await search('/studies?00100020=Q+3'), '00100020'), ['Q+3']);
    assert.deepEqual(values(await search('/studies?PatientName=albert&fuzzymatching=true'), '00100020'), ['Q1']);
    assert.deepEqual(values(await search('/studies?PatientName=DOE%5EJANE'), '00100020'), ['Q2']);
    assert.deepEqual(values(await search('/studies?StudyDate=20220101-20231231'), '00100020'), ['Q2', 'Q+3']);
    assert.deepEqual(values(await search('/studies?StudyDate=-20221231'), '00100020'), ['Q+3']);
    assert.deepEqual(values(await search(`/studies?StudyInstanceUID=${study(1)}%2C${study(3)}`), '00100020'), ['Q+3', 'Q1']);
    assert.deepEqual(await search('/studies?PatientID=nobody'), [], 'nothing found: an empty array');
  });

  test('series and instance keys where HealthImaging allows them, and all searches of the six', async () => {
    assert.deepEqual(values(await search('/series?SeriesNumber=3'), '0020000E'), [series(1, 3)]);
    assert.deepEqual(values(await search(`/instances?SOPInstanceUID=${sop(2, 1, 1)}`), '00100020'), ['Q2']);
    assert.equal((await search('/instances?InstanceNumber=2')).length, 1);
    assert.equal((await search('/instances?WarningReason=*')).length, 0, 'nothing was imported with a warning');
    await refused('/studies?Modality=CT', /"Modality" is not a supported query key for studies/);
    await refused('/series?SOPInstanceUID=1.2', /"SOPInstanceUID" is not a supported query key for series/);
    await refused('/studies?PatientWeight=70', /PatientWeight/);
    await refused('/studies?NotAnAttribute=1', /unknown query key "NotAnAttribute"/);
  });

  test('limit, offset and includefield within the configured limits; beyond them 400', async () => {
    assert.deepEqual(values(await search('/studies?limit=1&offset=1'), '0020000D'), [study(3)]);
    await refused('/studies?limit=21', /limit/);
    await refused('/studies?limit=abc', /limit/);
    await refused('/studies?offset=101', /offset/);
    await refused('/studies?offset=x', /offset/);
    await refused('/studies?includefield=StudyDescription&includefield=00080020&includefield=PatientAge&includefield=StudyID', /includefield/);
    const [withFields] = await search('/studies?PatientID=Q2&includefield=StudyDescription&includefield=00181030&includefield=NoSuchField');
    assert.ok(withFields['00081030']);
    const [all] = await search('/studies?PatientID=Q2&includefield=all');
    assert.ok(all['00280010'], 'all: every attribute');
  });

  test('/series carries study attributes, /instances both series and study attributes; instance results have a RetrieveURL', async () => {
    const [s] = await search('/series?PatientID=Q2');
    assert.equal(firstValue(s, '00100020'), 'Q2');
    assert.equal(firstValue(s, '00201206'), 1, 'NumberOfStudyRelatedSeries');
    assert.equal(firstValue(s, '00201209'), 1, 'NumberOfSeriesRelatedInstances');
    const [i] = await search('/instances?PatientID=Q2');
    assert.equal(firstValue(i, '00080060'), 'CT');
    assert.equal(firstValue(i, '00100010') && (firstValue(i, '00100010') as { Alphabetic: string }).Alphabetic, 'Doe^Jane');
    assert.equal(firstValue(i, '00081190'), `${fake.dicomwebEndpoint}/datastore/${fake.datastoreId}/studies/${study(2)}/series/${series(2, 1)}/instances/${sop(2, 1, 1)}`);
    const [st] = await search('/studies?PatientID=Q1');
    assert.deepEqual(st['00080061'].Value, ['CT']);
    assert.equal(firstValue(st, '00201208'), 3);
  });

  test('Accept: application/dicom+json, */* or none; anything else 406', async () => {
    assert.equal((await client.get('/studies', { accept: '*/*' })).status, 200);
    const xml = await client.get('/studies', { accept: 'multipart/related; type="application/dicom+xml"' });
    assert.equal(xml.status, 406);
    assert.equal(xml.headers['x-amzn-errortype'], 'NotAcceptableException');
  });
});
