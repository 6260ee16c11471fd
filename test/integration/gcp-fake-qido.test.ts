/**
 * QIDO-RS on the Google Cloud Healthcare fake: the six search resources, the default limits
 * (100 studies or series, 1000 instances) with PS3.18's Warning when more are left, the maxima
 * (5000, 50000) as 400 naming them, the match keys Google documents (others 400 naming the key),
 * wildcards refused, exact, UID-list, date-range and fuzzy matching, includefield, paging with
 * offset, computed attributes and the higher levels' attributes, `[]` when nothing matches.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { syntheticInstance, uidFromSeed } from '../fixtures/dicom-builder';
import { GcpFake, startGcpFake } from '../fakes/gcp';
import { DicomJson, GcpClient, allowedClient, googleError } from '../fakes/gcp/test-client/gcp-clients';

const study = (n: number) => uidFromSeed(700 + n, 'study');
const series = (n: number, s = 0) => uidFromSeed(`${700 + n}-${s}`, 'series');
const value = (d: DicomJson, tag: string) => d[tag]?.Value?.[0];
const uids = (answer: { json<T>(): T }, tag: string) => answer.json<DicomJson[]>().map((d) => String(value(d, tag)));

let fake: GcpFake;
let client: GcpClient;
before(async () => {
  fake = await startGcpFake();
  client = await allowedClient(fake);
  // Study 1: Doe^Jane, two series (CT, MR) of two and one instances; study 2: Roe^Richard, one CT instance; study 3 in February.
  const files = [
    syntheticInstance({ seed: 701, rows: 2, columns: 2, studyUid: study(1), seriesUid: series(1, 0), patientName: 'Doe^Jane', patientId: 'Q-1', accessionNumber: 'A-1', studyDate: '20240105' }),
    syntheticInstance({ seed: 702, rows: 2, columns: 2, studyUid: study(1), seriesUid: series(1, 0), instanceNumber: 2, patientName: 'Doe^Jane', patientId: 'Q-1', accessionNumber: 'A-1', studyDate: '20240105' }),
    syntheticInstance({ seed: 703, rows: 2, columns: 2, studyUid: study(1), seriesUid: series(1, 1), seriesNumber: 2, patientName: 'Doe^Jane', patientId: 'Q-1', accessionNumber: 'A-1', studyDate: '20240105', extraElements: [{ tag: 'Modality', value: 'MR' }] }),
    syntheticInstance({ seed: 704, rows: 2, columns: 2, studyUid: study(2), seriesUid: series(2), patientName: 'Roe^Richard', patientId: 'Q-2', accessionNumber: 'A-2', studyDate: '20240120' }),
    syntheticInstance({ seed: 705, rows: 2, columns: 2, studyUid: study(3), seriesUid: series(3), patientName: 'Poe^Edgar^Allan', patientId: 'Q-3', accessionNumber: 'A-3', studyDate: '20240210' }),
  ];
  assert.equal((await client.stow(files)).status, 200);
});
after(() => fake.close());

describe('search resources and results', () => {
  test('studies carry the computed attributes and a RetrieveURL; /series carries the study\'s attributes, /studies/{st}/series does not', async () => {
    const [one] = (await client.get(`/studies?StudyInstanceUID=${study(1)}`)).json<DicomJson[]>();
    assert.deepEqual(one['00201206'], { vr: 'IS', Value: [2] });
    assert.deepEqual(one['00201208'], { vr: 'IS', Value: [3] });
    assert.deepEqual(one['00080061'], { vr: 'CS', Value: ['CT', 'MR'] });
    assert.deepEqual(one['00100010'], { vr: 'PN', Value: [{ Alphabetic: 'Doe^Jane' }] });
    assert.equal(value(one, '00081190'), `${fake.dicomWebRoot}/studies/${study(1)}`);
    const all = (await client.get('/series?Modality=MR')).json<DicomJson[]>();
    assert.deepEqual(all.map((s) => value(s, '0020000E')), [series(1, 1)]);
    assert.equal(value(all[0], '00100020'), 'Q-1');
    assert.equal(value(all[0], '00081190'), `${fake.dicomWebRoot}/studies/${study(1)}/series/${series(1, 1)}`);
    const inStudy = (await client.get(`/studies/${study(1)}/series`)).json<DicomJson[]>();
    assert.equal(inStudy.length, 2);
    assert.equal(inStudy[0]['00100020'], undefined);
    assert.deepEqual(inStudy.find((s) => value(s, '0020000E') === series(1, 0))!['00201209'], { vr: 'IS', Value: [2] });
  });

  test('instances: of a series, of a study, of the store; SOPInstanceUID matches; the instance RetrieveURL', async () => {
    assert.equal((await client.get(`/studies/${study(1)}/series/${series(1, 0)}/instances`)).json<unknown[]>().length, 2);
    assert.equal((await client.get(`/studies/${study(1)}/instances`)).json<unknown[]>().length, 3);
    assert.equal((await client.get('/instances')).json<unknown[]>().length, 5);
    const [hit] = (await client.get(`/instances?SOPInstanceUID=${uidFromSeed(704, 'instance')}`)).json<DicomJson[]>();
    assert.equal(value(hit, '00081190'), `${fake.dicomWebRoot}/studies/${study(2)}/series/${series(2)}/instances/${uidFromSeed(704, 'instance')}`);
    assert.equal(value(hit, '00100010') !== undefined, true, '/instances carries the study attributes');
  });

  test('nothing matches: 200 []; an unknown study in the path too', async () => {
    const none = await client.get('/studies?PatientID=NOBODY');
    assert.equal(none.status, 200);
    assert.deepEqual(none.json(), []);
    assert.deepEqual((await client.get(`/studies/${uidFromSeed(799, 'study')}/series`)).json(), []);
  });

  test('a search answers DICOM JSON only: another Accept is 406', async () => {
    assert.equal((await client.get('/studies', { accept: 'multipart/related; type="application/dicom+xml"' })).status, 406);
    assert.equal((await client.get('/studies', { accept: 'application/dicom+json' })).status, 200);
  });
});

describe('matching', () => {
  test('exact PatientID, AccessionNumber, ReferringPhysicianName; UID lists; StudyDate ranges', async () => {
    assert.deepEqual(uids(await client.get('/studies?PatientID=Q-2'), '0020000D'), [study(2)]);
    assert.deepEqual(uids(await client.get('/studies?AccessionNumber=A-3'), '0020000D'), [study(3)]);
    assert.deepEqual(uids(await client.get(`/studies?StudyInstanceUID=${study(1)},${study(3)}`), '0020000D').sort(), [study(1), study(3)].sort());
    assert.deepEqual(uids(await client.get('/studies?StudyDate=20240101-20240131'), '0020000D').sort(), [study(1), study(2)].sort());
    assert.deepEqual(uids(await client.get('/studies?StudyDate=20240201-'), '0020000D'), [study(3)]);
    assert.deepEqual(uids(await client.get('/studies?StudyDate=20240120'), '0020000D'), [study(2)]);
    assert.equal((await client.get('/studies?ReferringPhysicianName=Nobody')).json<unknown[]>().length, 0);
  });

  test('PatientName: whole name exactly; fuzzymatching=true: word prefixes, any case', async () => {
    assert.deepEqual(uids(await client.get('/studies?PatientName=Doe%5EJane'), '0020000D'), [study(1)]);
    assert.deepEqual((await client.get('/studies?PatientName=Jane')).json(), []);
    assert.deepEqual(uids(await client.get('/studies?PatientName=jan&fuzzymatching=true'), '0020000D'), [study(1)]);
    assert.deepEqual(uids(await client.get('/studies?PatientName=allan%20po&fuzzymatching=true'), '0020000D'), [study(3)]);
    assert.deepEqual((await client.get('/studies?PatientName=oe&fuzzymatching=true')).json(), []);
  });

  test('wildcards * and ? are refused with 400 INVALID_ARGUMENT naming the key', async () => {
    for (const q of ['PatientName=Doe*', 'PatientID=Q-%3F', 'StudyDate=2024*']) {
      const answer = await client.get(`/studies?${q}`);
      assert.equal(answer.status, 400, q);
      assert.equal(googleError(answer).status, 'INVALID_ARGUMENT');
      assert.match(googleError(answer).message, new RegExp(`wildcard.*"${q.split('=')[0]}"`));
    }
  });

  test('keys Google does not document for a level are 400 naming the key', async () => {
    for (const [path, key] of [['/studies', 'StudyDescription'], ['/studies', 'Modality'], ['/series', 'SeriesDescription'], ['/instances', 'InstanceNumber'], ['/studies', 'NoSuchKeyword'], ['/studies', '00081030']]) {
      const answer = await client.get(`${path}?${key}=x`);
      assert.equal(answer.status, 400, `${path} ${key}`);
      assert.ok(googleError(answer).message.includes(`"${key}"`), googleError(answer).message);
    }
    assert.equal((await client.get('/series?PatientID=Q-1&Modality=CT')).json<unknown[]>().length, 1, 'study keys are allowed on series');
    assert.equal((await client.get('/instances?SeriesInstanceUID=' + series(1, 0))).json<unknown[]>().length, 2);
  });

  test('includefield: a keyword, a tag, all', async () => {
    const [plain] = (await client.get(`/studies?StudyInstanceUID=${study(1)}`)).json<DicomJson[]>();
    assert.equal(plain['00081030'], undefined);
    for (const field of ['StudyDescription', '00081030']) {
      const [withIt] = (await client.get(`/studies?StudyInstanceUID=${study(1)}&includefield=${field}`)).json<DicomJson[]>();
      assert.equal(value(withIt, '00081030'), 'Synthetic CT');
    }
    const [everything] = (await client.get(`/instances?SOPInstanceUID=${uidFromSeed(701, 'instance')}&includefield=all`)).json<DicomJson[]>();
    assert.equal(value(everything, '00180050'), 1, 'SliceThickness comes with all');
    assert.equal(everything['7FE00010'], undefined, 'never pixels');
  });
});

describe('limits and paging', () => {
  test('the maxima: 5000 studies or series and 50000 instances pass; one more is 400 naming the maximum', async () => {
    for (const [path, max] of [['/studies', 5000], ['/series', 5000], [`/studies/${study(1)}/series`, 5000], ['/instances', 50000], [`/studies/${study(1)}/instances`, 50000]] as const) {
      assert.equal((await client.get(`${path}?limit=${max}`)).status, 200, path);
      const over = await client.get(`${path}?limit=${max + 1}`);
      assert.equal(over.status, 400, path);
      assert.match(googleError(over).message, new RegExp(`\\b${max}\\b`));
    }
  });

  test('offset and limit page through results in a stable order; the Warning says when more are left', async () => {
    const all = uids(await client.get('/instances'), '00080018');
    assert.equal(all.length, 5);
    const pages: string[] = [];
    for (let offset = 0; offset < 5; offset += 2) {
      const page = await client.get(`/instances?limit=2&offset=${offset}`);
      assert.equal(page.headers.warning !== undefined, offset + 2 < 5, `offset ${offset}`);
      pages.push(...uids(page, '00080018'));
    }
    assert.deepEqual(pages, all);
    assert.deepEqual((await client.get('/instances?offset=10')).json(), []);
  });

  test('defaults: 100 studies, 100 series, 1000 instances, with the Warning when more match', async () => {
    const big = await startGcpFake();
    try {
      const c = await allowedClient(big);
      const files = Array.from({ length: 1001 }, (_, i) =>
        syntheticInstance({ seed: 10_000 + i, rows: 1, columns: 1, studyUid: i < 101 ? undefined : uidFromSeed('big', 'study'), seriesUid: i < 101 ? undefined : uidFromSeed('big', 'series') }),
      );
      assert.equal((await c.stow(files)).status, 200);
      const studies = await c.get('/studies');
      assert.equal(studies.json<unknown[]>().length, 100);
      assert.match(String(studies.headers.warning), /^299 /);
      assert.equal((await c.get('/series')).json<unknown[]>().length, 100);
      assert.equal((await c.get('/studies?limit=200')).json<unknown[]>().length, 102);
      assert.equal((await c.get('/studies?limit=200')).headers.warning, undefined);
      const instances = await c.get('/instances');
      assert.equal(instances.json<unknown[]>().length, 1000);
      assert.match(String(instances.headers.warning), /^299 /);
      assert.equal((await c.get('/instances?limit=1001')).json<unknown[]>().length, 1001);
    } finally {
      await big.close();
    }
  });
});
