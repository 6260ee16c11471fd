/**
 * QIDO-RS over HTTP on a gateway filled through STOW-RS with the QIDO fixture archive: the six
 * resources, media types, paging and its Warning, Retrieve URLs, and 400 (never 5xx) for bad input.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { send, HttpAnswer } from '../helpers/http-client';
import { stowAll } from '../helpers/qido-load';
import { RunningGateway, startInProcessGateway } from '../helpers/test-gateway';
import { allFiles, qidoDataset, QIDO_ROOT } from '../fixtures/qido-dataset';

const studies = qidoDataset();
const uid = (n: number) => `${QIDO_ROOT}.${n}`;
type Result = Record<string, { vr: string; Value?: any[] }>;

describe('QIDO-RS over HTTP', () => {
  let gw: RunningGateway;
  const get = (path: string, accept = 'application/dicom+json', headers: Record<string, string> = {}) =>
    send(`${gw.baseUrl}/dicomweb${path}`, { headers: { accept, ...headers } });
  const results = async (path: string): Promise<Result[]> => {
    const res = await get(path);
    assert.equal(res.status, 200, `${path}: ${res.text()}`);
    return res.json();
  };
  const ids = (rs: Result[], tag = '00100020') => rs.map((r) => r[tag]?.Value?.[0]);

  before(async () => {
    gw = await startInProcessGateway({ QIDO_DEFAULT_LIMIT: '10', QIDO_MAX_LIMIT: '12' });
    await stowAll(`${gw.baseUrl}/dicomweb`, allFiles(studies));
  });
  after(async () => {
    await gw.stop();
  });

  test('the six resources of PS3.18 10.6', async () => {
    assert.deepEqual(ids(await results('/studies?PatientID=WAN002')), ['WAN002']);
    assert.deepEqual(ids(await results(`/studies/${uid(6)}/series`), '0020000E'), [`${uid(6)}.1`, `${uid(6)}.2`, `${uid(6)}.3`]);
    assert.deepEqual(ids(await results(`/studies/${uid(6)}/series/${uid(6)}.2/instances`), '00080018'), [`${uid(6)}.2.1`, `${uid(6)}.2.2`]);
    assert.equal((await results(`/studies/${uid(6)}/instances`)).length, 6);
    assert.deepEqual(ids(await results('/series?Modality=PT')), ['BUC001', 'WAN002']);
    assert.deepEqual(ids(await results('/instances?PatientID=MUL002&Modality=SR'), '00080018'), [`${uid(2)}.2.1`, `${uid(2)}.2.2`]);
  });

  test('application/dicom+json, application/json, anything; 406 for what the server cannot make', async () => {
    for (const [accept, type] of [
      ['application/dicom+json', 'application/dicom+json'],
      ['application/json', 'application/json'],
      ['*/*', 'application/dicom+json'],
      ['', 'application/dicom+json'],
      ['application/dicom+xml;q=0.9, application/json;q=0.5', 'application/json'],
    ]) {
      const res = accept ? await get('/studies?PatientID=SMI001', accept) : await send(`${gw.baseUrl}/dicomweb/studies?PatientID=SMI001`);
      assert.equal(res.status, 200, accept);
      assert.equal(res.headers['content-type'], type, accept);
      assert.equal(res.json().length, 1);
    }
    for (const accept of ['multipart/related; type="application/dicom+xml"', 'application/dicom+xml', 'text/html', 'application/json;q=0']) {
      const res = await get('/studies', accept);
      assert.equal(res.status, 406, accept);
      assert.match(String(res.headers.warning), /^299 /);
    }
  });

  test('no match: 200 with []', async () => {
    const res = await get('/studies?PatientID=NOBODY');
    assert.equal(res.status, 200);
    assert.equal(res.text(), '[]');
    assert.equal(res.headers.warning, undefined);
    assert.deepEqual(await results(`/studies/${uid(99)}/series`), []);
  });

  test('query values are percent-decoded as browsers and dicomweb-client send them', async () => {
    assert.deepEqual(ids(await results('/studies?PatientName=Wang%5E*')), ['WAN001', 'WAN002']);
    assert.deepEqual(ids(await results('/studies?PatientName=M%C3%BCller*')), ['MUL001']);
    assert.deepEqual(ids(await results(`/studies?PatientName=${encodeURIComponent('山田^太郎')}`)), ['YAM001']);
    assert.deepEqual(ids(await results(`/studies?StudyInstanceUID=${uid(1)}%2C${uid(2)}`)), ['MUL001', 'MUL002']);
  });

  test('limit and offset page through a stable order; a cut by the server says so in a Warning', async () => {
    const all: string[] = [];
    for (let offset = 0; offset < studies.length; offset += 4) {
      const res = await get(`/studies?limit=4&offset=${offset}`);
      assert.equal(res.headers.warning, undefined, 'the client chose this limit');
      all.push(...ids(res.json()));
    }
    assert.deepEqual(all, studies.map((s) => s.patientId));

    const cut = (res: HttpAnswer) => /^299 - ".*maximum supported by the server.*Additional results can be requested/.test(String(res.headers.warning));
    const byDefault = await get('/studies');
    assert.equal(byDefault.json().length, 10);
    assert.ok(cut(byDefault), String(byDefault.headers.warning));
    const capped = await get('/studies?limit=100');
    assert.equal(capped.json().length, 12);
    assert.ok(cut(capped));
    const lastPage = await get('/studies?offset=10');
    assert.equal(lastPage.json().length, studies.length - 10);
    assert.equal(lastPage.headers.warning, undefined, 'nothing was cut');
  });

  test('a key the server cannot match (a private one) is ignored, returned, and said so (PS3.18 8.3)', async () => {
    const res = await get('/studies?PatientID=SMI001&00231010=ACME');
    assert.equal(res.status, 200);
    assert.deepEqual(ids(res.json()), ['SMI001']);
    assert.match(String(res.headers.warning), /^299 - "00231010: matching on private attributes is not supported/);
  });

  test('Retrieve URLs point at the gateway as the client reached it, or at PUBLIC_BASE_URL', async () => {
    const [study] = await results('/studies?PatientID=SMI001');
    assert.deepEqual(study['00081190'].Value, [`${gw.baseUrl}/dicomweb/studies/${uid(9)}`]);
    const other = await startInProcessGateway({ DATA_DIR: gw.dataDir, PUBLIC_BASE_URL: 'https://pacs.example.org/gw' });
    try {
      const res = await send(`${other.baseUrl}/dicomweb/instances?PatientID=SMI001&limit=1`);
      assert.deepEqual(res.json()[0]['00081190'].Value, [`https://pacs.example.org/gw/dicomweb/studies/${uid(9)}/series/${uid(9)}.1/instances/${uid(9)}.1.1`]);
    } finally {
      await other.app.close();
    }
  });

  test('/series and /instances carry the study attributes; includefield=all everything held', async () => {
    const [series] = await results('/series?PatientID=GAR001&SeriesNumber=1');
    assert.deepEqual(series['00100010'].Value, [{ Alphabetic: 'García^José' }]);
    assert.deepEqual(series['00080061'].Value, ['CT', 'NM']);
    assert.deepEqual(series['00201206'].Value, [2]);
    assert.deepEqual(series['00201209'].Value, [2]);
    assert.deepEqual(series['00400275'].Value![0]['00400009'].Value, ['SPS-14-1']);
    const [all] = await results(`/studies/${uid(14)}/series/${uid(14)}.1/instances?includefield=all&limit=1`);
    assert.deepEqual(all['00080008'].Value, ['ORIGINAL', 'PRIMARY', 'AXIAL']);
    assert.deepEqual(all['00281050'].Value, [40]);
    assert.equal(all['7FE00010'], undefined);
    assert.equal(all['00080005'], undefined);
  });

  test('bad input: 400 with a reason in the Warning header and the body', async () => {
    for (const q of [
      'StudyDate=2024-01-01', 'StudyDate=20240101-2025', 'PatientNmae=X', '99980010=1', 'limit=-1', 'offset=abc',
      'PatientName=%E4', 'PatientName=%zz', 'fuzzymatching=maybe', 'includefield=Unknown', 'StudyInstanceUID=abc',
    ]) {
      const res = await get(`/studies?${q}`);
      assert.equal(res.status, 400, q);
      assert.match(String(res.headers.warning), /^299 - "/, q);
      assert.equal(res.json().status, 400);
      assert.ok(res.json().message.length > 10, q);
    }
    assert.equal((await get('/studies/1.2.abc/series')).status, 400);
    assert.equal((await get(`/studies/${uid(1)}/series/x/instances`)).status, 400);
  });

  test('never a 5xx, whatever the query string', async () => {
    const odd = [
      '', '?', '?&&&', '?=', '?=x', '?%', '?%%', '?limit=99999999999999999999', '?offset=99999999999999', '?limit=1e3',
      '?PatientName=%00', '?PatientName=' + 'A'.repeat(5000), '?PatientName=*'.repeat(50), '?PatientName=%5B*',
      '?PatientName=[a-z]*', '?PatientID=%27%3B%20DROP%20TABLE%20studies%3B--', '?StudyDate=--', '?StudyDate=-',
      '?StudyDate=20240101-20240101-20240101', '?StudyTime=24', '?AcquisitionDateTime=2024-2025', '?includefield=',
      '?includefield=,', '?includefield=all,all', '?fuzzymatching=true&PatientName=%20', '?fuzzymatching=true&PatientName=***',
      '?00100010.00100020=X', '?SeriesNumber=NaN', '?SeriesNumber=Infinity', '?ModalitiesInStudy=%5C', '?emptyvaluematching=true&StudyInstanceUID=""',
      '?RequestAttributesSequence.ScheduledProcedureStepID=""', '?multiplevaluematching=true&StudyDate=%5C', '?NumberOfStudyRelatedSeries=-1',
    ];
    for (const q of odd) {
      for (const resource of ['/studies', '/series', '/instances']) {
        const res = await get(`${resource}${q}`);
        assert.ok(res.status === 200 || res.status === 400, `${resource}${q.slice(0, 80)} -> ${res.status} ${res.text().slice(0, 200)}`);
      }
    }
  });
});
