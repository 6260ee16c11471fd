/**
 * STOW-RS on the Google Cloud Healthcare fake: single-part and multipart bodies, the DICOM JSON
 * answer (study RetrieveURL, Referenced and Failed SOP Sequences), Google's duplicate rule
 * (identical bytes: 200, nothing changes; other bytes: 409, FailureReason 272 and the private
 * FailureDetail, the first copy kept), mixed outcomes (202), Google's default XML answer, the
 * media-type checks, the size limit, and the visibility delay.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { syntheticInstance, uidFromSeed } from '../fixtures/dicom-builder';
import { send } from '../helpers/http-client';
import { multipartBody } from '../helpers/multipart-body';
import { samplesDir } from '../helpers/samples';
import { GcpFake, startGcpFake } from '../fakes/gcp';
import { GcpClient, allowedClient, googleError, stowSummary } from '../fakes/gcp/test-client/gcp-clients';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const small = (seed: number, extra: Parameters<typeof syntheticInstance>[0] = {}) => syntheticInstance({ seed, rows: 4, columns: 4, ...extra });
const DETAIL = 'An instance already exists in this DICOM Store with the same Study/Series/SOPInstance UID, but the DICOM files differ (checksum mismatch).';

let fake: GcpFake;
let client: GcpClient;
before(async () => {
  fake = await startGcpFake();
  client = await allowedClient(fake);
});
after(() => fake.close());

describe('STOW', () => {
  test('a single application/dicom body: 200, the study RetrieveURL, the instance with its RetrieveURL', async () => {
    const file = readFileSync(join(samplesDir(), 'CT_small.dcm'));
    const answer = await client.stow([file], { single: true });
    assert.equal(answer.status, 200, answer.text());
    assert.equal(answer.headers['content-type'], 'application/dicom+json');
    const summary = stowSummary(answer);
    assert.deepEqual(summary.failed, []);
    const held = fake.instances().find((i) => i.sopInstanceUid === summary.stored[0])!;
    assert.equal(held.sha256, sha(file));
    assert.equal(held.visible, true);
    assert.equal(summary.studyUrl, `${fake.dicomWebRoot}/studies/${held.studyInstanceUid}`);
    assert.deepEqual(summary.retrieveUrls, [`${fake.dicomWebRoot}/studies/${held.studyInstanceUid}/series/${held.seriesInstanceUid}/instances/${held.sopInstanceUid}`]);
    const back = await send(summary.retrieveUrls[0], { headers: { authorization: `Bearer ${client.token}`, accept: 'application/dicom; transfer-syntax=*' } });
    assert.deepEqual(back.body, file);
  });

  test('the same instance again with identical bytes: 200, listed as stored, nothing changes', async () => {
    const file = small(601);
    assert.equal((await client.stow([file])).status, 200);
    const again = await client.stow([file]);
    assert.equal(again.status, 200, again.text());
    assert.deepEqual(stowSummary(again).stored, [uidFromSeed(601, 'instance')]);
    assert.deepEqual(fake.instances().filter((i) => i.sopInstanceUid === uidFromSeed(601, 'instance')).map((i) => i.sha256), [sha(file)]);
  });

  test('the same SOP Instance UID with other bytes: 409, FailureReason 272 with Google\'s FailureDetail, the first copy kept', async () => {
    const first = small(602);
    assert.equal((await client.stow([first])).status, 200);
    const edited = small(602, { studyDescription: 'Edited' });
    const answer = await client.stow([edited]);
    assert.equal(answer.status, 409, answer.text());
    const body = answer.json();
    const item = body['00081198'].Value[0];
    assert.deepEqual(item['00081155'], { vr: 'UI', Value: [uidFromSeed(602, 'instance')] });
    assert.deepEqual(item['00081150'], { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] });
    assert.deepEqual(item['00081197'], { vr: 'US', Value: [272] });
    assert.deepEqual(item['00090010'], { vr: 'LO', Value: ['GOOGLE'] });
    assert.deepEqual(item['00090097'], { vr: 'LT', Value: [DETAIL] });
    assert.equal(body['00081199'], undefined);
    assert.equal(body['00081190'].Value[0], `${fake.dicomWebRoot}/studies/${uidFromSeed(602, 'study')}`);
    assert.deepEqual(fake.instances().filter((i) => i.sopInstanceUid === uidFromSeed(602, 'instance')).map((i) => i.sha256), [sha(first)]);
  });

  test('some stored, some failed: 202 (a conflict, a part that is not DICOM); nothing stored and no conflict: 400', async () => {
    const kept = small(603);
    assert.equal((await client.stow([kept])).status, 200);
    const mixed = await client.stow([small(604), small(603, { studyDescription: 'Other' }), Buffer.from('not dicom')]);
    assert.equal(mixed.status, 202, mixed.text());
    const summary = stowSummary(mixed);
    assert.deepEqual(summary.stored, [uidFromSeed(604, 'instance')]);
    assert.deepEqual(summary.failed, [
      { sop: uidFromSeed(603, 'instance'), reason: 272, detail: DETAIL },
      { sop: undefined, reason: 0xc000, detail: undefined },
    ]);
    assert.equal(summary.studyUrl, undefined, 'two studies: no study RetrieveURL');
    const none = await client.stow([Buffer.from('still not dicom')], { single: true });
    assert.equal(none.status, 400);
    assert.deepEqual(stowSummary(none).failed, [{ sop: undefined, reason: 0xc000, detail: undefined }]);
  });

  test('POST /studies/{study}: an instance of another study fails with 0xA900', async () => {
    const answer = await client.stow([small(605)], { study: uidFromSeed(606, 'study') });
    assert.equal(answer.status, 400, answer.text());
    assert.deepEqual(stowSummary(answer).failed, [{ sop: uidFromSeed(605, 'instance'), reason: 0xa900, detail: undefined }]);
    assert.equal(stowSummary(answer).studyUrl, `${fake.dicomWebRoot}/studies/${uidFromSeed(606, 'study')}`);
    assert.equal((await client.stow([small(606)], { study: uidFromSeed(606, 'study') })).status, 200);
  });

  test('without a JSON Accept the answer is Google\'s default DICOM XML', async () => {
    const first = small(607);
    const stored = await client.stow([first], { headers: { accept: '' } });
    assert.equal(stored.status, 200);
    assert.equal(stored.headers['content-type'], 'application/dicom+xml');
    assert.match(stored.text(), /^<NativeDicomModel><DicomAttribute tag="00081190" vr="UR" keyword="RetrieveURL"><Value number="1">http:/);
    assert.match(stored.text(), /<DicomAttribute tag="00081199" vr="SQ" keyword="ReferencedSOPSequence"><Item number="1">/);
    const conflict = await client.stow([small(607, { studyDescription: 'x' })], { headers: { accept: 'application/dicom+xml' } });
    assert.equal(conflict.status, 409);
    assert.ok(conflict.text().includes(`<DicomAttribute tag="00090097" vr="LT" keyword="FailureDetail" privateCreator="GOOGLE"><Value number="1">${DETAIL}</Value>`));
    assert.equal((await client.stow([small(608)], { headers: { accept: 'image/png' } })).status, 406);
  });

  test('multipart type quoted or not; other Content-Types are 415; a broken multipart body is 400', async () => {
    const { body } = multipartBody([small(609), small(610)], 'b-9');
    for (const contentType of ['multipart/related; type="application/dicom"; boundary=b-9', 'multipart/related; type=application/dicom; boundary="b-9"']) {
      const answer = await client.stow([body], { single: true, headers: { 'content-type': contentType } });
      assert.equal(answer.status, 200, answer.text());
      assert.equal(stowSummary(answer).stored.length, 2);
    }
    const json = await client.stow([Buffer.from('{}')], { single: true, headers: { 'content-type': 'application/json' } });
    assert.equal(json.status, 415);
    assert.equal(googleError(json).code, 415);
    const broken = await client.stow([Buffer.from('--b-9\r\nContent-Type: application/dicom\r\n\r\nxx')], { single: true, headers: { 'content-type': 'multipart/related; type="application/dicom"; boundary=b-9' } });
    assert.equal(broken.status, 400);
    assert.equal(googleError(broken).status, 'INVALID_ARGUMENT');
  });
});

describe('STOW limits and visibility', () => {
  let limited: GcpFake;
  let c: GcpClient;
  before(async () => {
    limited = await startGcpFake({ maxStowBytes: 20_000, visibilityDelayMs: 300 });
    c = await allowedClient(limited);
  });
  after(() => limited.close());

  test('a body over maxStowBytes is 413, by Content-Length or while a chunked body is read; nothing stored', async () => {
    const big = syntheticInstance({ seed: 611, rows: 128, columns: 128 });
    assert.ok(big.length > 20_000);
    const answer = await c.stow([big]);
    assert.equal(answer.status, 413, answer.text());
    assert.match(googleError(answer).message, /exceeds the limit: 20000 bytes/);
    const chunked = await send(`${limited.dicomWebRoot}/studies`, {
      method: 'POST',
      headers: { authorization: `Bearer ${c.token}`, 'content-type': 'application/dicom', accept: 'application/dicom+json' },
      body: Readable.from([big.subarray(0, 15_000), big.subarray(15_000)]),
    });
    assert.equal(chunked.status, 413);
    assert.deepEqual(limited.instances(), []);
    assert.equal((await c.stow([small(612)])).status, 200, 'the limit is per request');
  });

  test('stored data is invisible to searches and reads until the delay has passed; setVisibilityDelayMs changes it', async () => {
    const file = small(613, { patientId: 'LATER' });
    assert.equal((await c.stow([file])).status, 200);
    const path = `/studies/${uidFromSeed(613, 'study')}/series/${uidFromSeed(613, 'series')}/instances/${uidFromSeed(613, 'instance')}`;
    assert.deepEqual((await c.get('/studies?PatientID=LATER')).json(), []);
    assert.equal((await c.get(`${path}/metadata`)).status, 404);
    assert.equal(limited.instances().find((i) => i.sopInstanceUid === uidFromSeed(613, 'instance'))?.visible, false);
    await sleep(350);
    assert.equal((await c.get('/studies?PatientID=LATER')).json<unknown[]>().length, 1);
    assert.equal((await c.get(`${path}/metadata`)).status, 200);
    limited.setVisibilityDelayMs(0);
    assert.equal((await c.stow([small(614, { patientId: 'NOW' })])).status, 200);
    assert.equal((await c.get('/studies?PatientID=NOW')).json<unknown[]>().length, 1);
  });
});
