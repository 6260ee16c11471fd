/**
 * The indexing-upstream fake in front of a real Orthanc: a study STOWed through it is 404 and
 * missing from QIDO until the visibility delay has passed (Orthanc has it at once), a study that
 * existed stays visible, latency is added, requests are counted, and large bodies pass intact.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { syntheticInstance, uidFromSeed } from '../fixtures/dicom-builder';
import { IndexingUpstream, startIndexingUpstream } from '../fakes/indexing-upstream';
import { HttpAnswer, send } from '../helpers/http-client';
import { multipartBody } from '../helpers/multipart-body';
import { orthancAvailable, RunningOrthanc, startOrthanc } from '../helpers/orthanc';
import { splitMultipart } from '../helpers/wado-client';

const DELAY_MS = 1500;
const JSON_ACCEPT = { accept: 'application/dicom+json' };
const DICOM_ACCEPT = { accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' };

type DicomJson = Record<string, { Value?: unknown[] }>;

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An instance of test study `n` (UIDs derived from n), instance number `i`. */
function instance(n: number, i = 1, extra: { rows?: number; patientId?: string } = {}) {
  const studyUid = uidFromSeed(n, 'indexing-study');
  const seriesUid = uidFromSeed(n, 'indexing-series');
  const sopUid = uidFromSeed(`${n}.${i}`, 'indexing-instance');
  const size = extra.rows ?? 16;
  const file = syntheticInstance({ seed: n * 100 + i, rows: size, columns: size, studyUid, seriesUid, sopInstanceUid: sopUid, instanceNumber: i, patientId: extra.patientId ?? `IDX${n}` });
  return { studyUid, seriesUid, sopUid, file };
}

function stow(url: string, files: Buffer[]): Promise<HttpAnswer> {
  const { body, contentType } = multipartBody(files);
  return send(url, { method: 'POST', headers: { 'content-type': contentType, ...JSON_ACCEPT }, body });
}

function uids(results: DicomJson[], tag: string): string[] {
  return results.map((r) => String(r[tag].Value?.[0])).sort();
}

describe('indexing-upstream fake', { skip: !orthancAvailable() && 'Orthanc is not installed' }, () => {
  let orthanc: RunningOrthanc;
  const fakes: IndexingUpstream[] = [];
  const start = async (latencyMs: number, visibilityDelayMs: number) => {
    const fake = await startIndexingUpstream({ target: orthanc.dicomwebUrl, latencyMs, visibilityDelayMs });
    fakes.push(fake);
    return fake;
  };

  before(async () => {
    orthanc = await startOrthanc();
  });
  after(async () => {
    for (const fake of fakes) await fake.close();
    await orthanc?.stop();
  });

  test('a study stored through the fake is 404 and missing from QIDO until the delay has passed; Orthanc has it at once', async () => {
    const fake = await start(0, DELAY_MS);
    assert.match(fake.url, /^http:\/\/127\.0\.0\.1:\d+\/dicom-web$/);
    // Same patient: the searches below must drop the new study and keep the old one.
    const old = instance(1, 1, { patientId: 'IDX-SHARED' });
    const fresh = instance(2, 1, { patientId: 'IDX-SHARED' });
    assert.equal((await stow(`${orthanc.dicomwebUrl}/studies`, [old.file])).status, 200);

    const sentAt = Date.now();
    const stored = await stow(`${fake.url}/studies`, [fresh.file]);
    const answeredAt = Date.now();
    assert.equal(stored.status, 200, stored.text());
    const referenced = stored.json<DicomJson>()['00081199'].Value as DicomJson[];
    assert.deepEqual(referenced[0]['00081155'].Value, [fresh.sopUid]);

    const studyUrl = `${fake.url}/studies/${fresh.studyUid}`;
    const metadata = await send(`${studyUrl}/metadata`, { headers: JSON_ACCEPT });
    assert.equal(metadata.status, 404);
    assert.equal(metadata.json().error, 'Study not found');
    assert.equal((await send(`${studyUrl}/series/${fresh.seriesUid}/instances/${fresh.sopUid}`, { headers: DICOM_ACCEPT })).status, 404);
    assert.equal((await send(`${studyUrl}/series`, { headers: JSON_ACCEPT })).status, 404);
    for (const [level, tag, expected] of [
      ['studies', '0020000D', old.studyUid],
      ['series', '0020000E', old.seriesUid],
      ['instances', '00080018', old.sopUid],
    ] as const) {
      const found = await send(`${fake.url}/${level}?PatientID=IDX-SHARED`, { headers: JSON_ACCEPT });
      assert.equal(found.status, 200);
      assert.deepEqual(uids(found.json(), tag), [expected], level);
    }
    // Orthanc itself indexed it at once.
    assert.equal((await send(`${orthanc.dicomwebUrl}/studies/${fresh.studyUid}/metadata`, { headers: JSON_ACCEPT })).status, 200);
    const direct = await send(`${orthanc.dicomwebUrl}/studies?PatientID=IDX-SHARED`, { headers: JSON_ACCEPT });
    assert.deepEqual(uids(direct.json(), '0020000D'), [old.studyUid, fresh.studyUid].sort());
    assert.ok(Date.now() - sentAt < DELAY_MS, 'the checks while hidden took longer than the delay');

    await sleep(answeredAt + DELAY_MS + 100 - Date.now());
    const later = await send(`${studyUrl}/metadata`, { headers: JSON_ACCEPT });
    assert.equal(later.status, 200);
    assert.deepEqual(uids(later.json(), '00080018'), [fresh.sopUid]);
    const found = await send(`${fake.url}/studies?PatientID=IDX-SHARED`, { headers: JSON_ACCEPT });
    assert.deepEqual(uids(found.json(), '0020000D'), [old.studyUid, fresh.studyUid].sort());
  });

  test('a study that existed stays visible and takes new instances at once; STOW to studies/{uid} hides a new study', async () => {
    const fake = await start(0, DELAY_MS);
    const first = instance(3, 1);
    const second = instance(3, 2);
    assert.equal((await stow(`${orthanc.dicomwebUrl}/studies`, [first.file])).status, 200);
    assert.equal((await stow(`${fake.url}/studies`, [second.file])).status, 200);
    const metadata = await send(`${fake.url}/studies/${first.studyUid}/metadata`, { headers: JSON_ACCEPT });
    assert.equal(metadata.status, 200);
    assert.deepEqual(uids(metadata.json(), '00080018'), [first.sopUid, second.sopUid].sort());

    const fresh = instance(4);
    assert.equal((await stow(`${fake.url}/studies/${fresh.studyUid}`, [fresh.file])).status, 200);
    assert.equal((await send(`${fake.url}/studies/${fresh.studyUid}/metadata`, { headers: JSON_ACCEPT })).status, 404);
  });

  test('concurrent STOWs of one new study all count as new: it stays hidden', async () => {
    const fake = await start(0, DELAY_MS);
    // Many at once, so that some are stored by Orthanc while the fake still decides on the first.
    const parts = Array.from({ length: 40 }, (_, i) => instance(5, i + 1));
    const answers = await Promise.all(parts.map((p) => stow(`${fake.url}/studies`, [p.file])));
    assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([200]));
    assert.equal((await send(`${fake.url}/studies/${parts[0].studyUid}/metadata`, { headers: JSON_ACCEPT })).status, 404);
    const direct = await send(`${orthanc.dicomwebUrl}/studies/${parts[0].studyUid}/metadata`, { headers: JSON_ACCEPT });
    assert.equal(direct.json().length, parts.length);
  });

  test('latency is added before every answer and can be changed', async () => {
    const fake = await start(300, 0);
    const timed = async () => {
      const began = performance.now();
      const answer = await send(`${fake.url}/studies`, { headers: JSON_ACCEPT });
      assert.equal(answer.status, 200);
      return performance.now() - began;
    };
    assert.ok((await timed()) >= 300);
    fake.setLatency(700);
    assert.ok((await timed()) >= 700);
    fake.setLatency(0);
    assert.ok((await timed()) < 300);
  });

  test('requests are counted by kind, hidden 404s included, until reset', async () => {
    const fake = await start(0, DELAY_MS);
    const seen = instance(6);
    const fresh = instance(7);
    assert.equal((await stow(`${orthanc.dicomwebUrl}/studies`, [seen.file])).status, 200);
    assert.deepEqual(fake.counts(), { total: 0, metadata: 0, qido: 0, stow: 0, retrieve: 0 });

    await stow(`${fake.url}/studies`, [fresh.file]);
    await send(`${fake.url}/studies/${seen.studyUid}/metadata`, { headers: JSON_ACCEPT });
    await send(`${fake.url}/studies/${fresh.studyUid}/metadata`, { headers: JSON_ACCEPT }); // 404, still counted
    await send(`${fake.url}/studies?PatientID=IDX6`, { headers: JSON_ACCEPT });
    await send(`${fake.url}/studies/${seen.studyUid}/series`, { headers: JSON_ACCEPT });
    await send(`${fake.url}/studies/${seen.studyUid}/series/${seen.seriesUid}/instances`, { headers: JSON_ACCEPT });
    await send(`${fake.url}/studies/${seen.studyUid}/series/${seen.seriesUid}/instances/${seen.sopUid}`, { headers: DICOM_ACCEPT });
    // The fake's own look-up of the new study at the target is not counted.
    assert.deepEqual(fake.counts(), { total: 7, metadata: 2, qido: 3, stow: 1, retrieve: 1 });

    fake.resetCounts();
    assert.deepEqual(fake.counts(), { total: 0, metadata: 0, qido: 0, stow: 0, retrieve: 0 });
  });

  test('a multi-MB instance goes up as a stream and comes back intact', async () => {
    const fake = await start(0, 0);
    const big = instance(8, 1, { rows: 2048 }); // 8 MiB of pixels
    assert.ok(big.file.length > 8 * 1024 * 1024);
    const { body, contentType } = multipartBody([big.file]);
    const chunks = Array.from({ length: Math.ceil(body.length / 65536) }, (_, i) => body.subarray(i * 65536, (i + 1) * 65536));
    const stored = await send(`${fake.url}/studies`, { method: 'POST', headers: { 'content-type': contentType, ...JSON_ACCEPT }, body: Readable.from(chunks) });
    assert.equal(stored.status, 200, stored.text());

    const path = `/studies/${big.studyUid}/series/${big.seriesUid}/instances/${big.sopUid}`;
    const [viaFake] = await splitMultipart(await send(`${fake.url}${path}`, { headers: DICOM_ACCEPT }));
    const [direct] = await splitMultipart(await send(`${orthanc.dicomwebUrl}${path}`, { headers: DICOM_ACCEPT }));
    assert.ok(viaFake.body.length > 8 * 1024 * 1024);
    assert.equal(sha(viaFake.body), sha(direct.body));
    assert.equal(sha(viaFake.body), sha(big.file));
  });
});
