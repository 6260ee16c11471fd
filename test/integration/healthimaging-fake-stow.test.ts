/**
 * StoreDICOM / StoreDICOMStudy on the HealthImaging fake: single-part and multipart bodies, the
 * STOW-RS answer (Referenced / Failed SOP Sequences, status 200/202/400), re-imports (same bytes:
 * nothing changes; other bytes: replaced), the size limit (413, nothing stored), the visibility
 * delay, StoreDICOM switched off, and requests outside the datastore.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { syntheticInstance, uidFromSeed } from '../fixtures/dicom-builder';
import { Readable } from 'node:stream';
import { send } from '../helpers/http-client';
import { multipartBody } from '../helpers/multipart-body';
import { samplesDir } from '../helpers/samples';
import { HealthImagingFake, startHealthImagingFake } from '../fakes/healthimaging';
import { DicomJson, FakeClient, fakeClient, stowSummary } from '../fakes/healthimaging/test-client/fake-clients';
import { signRequest } from '../fakes/healthimaging/test-client/signed-request';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const sample = (name: string) => readFileSync(join(samplesDir(), name));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let fake: HealthImagingFake;
let client: FakeClient;
before(async () => {
  fake = await startHealthImagingFake();
  client = fakeClient(fake);
});
after(() => fake.close());

describe('STOW', () => {
  test('a single application/dicom body is stored; the answer lists it with an absolute RetrieveURL', async () => {
    const file = sample('CT_small.dcm');
    const answer = await client.stow([file], { single: true });
    assert.equal(answer.status, 200, answer.text());
    assert.equal(answer.headers['content-type'], 'application/dicom+json');
    const summary = stowSummary(answer);
    assert.equal(summary.stored.length, 1);
    assert.deepEqual(summary.failed, []);
    const held = fake.instances().find((i) => i.sopInstanceUid === summary.stored[0]);
    assert.equal(held?.sha256, sha(file));
    assert.equal(summary.retrieveUrls[0], `${fake.dicomwebEndpoint}/datastore/${fake.datastoreId}/studies/${held!.studyInstanceUid}/series/${held!.seriesInstanceUid}/instances/${held!.sopInstanceUid}`);
    const retrieved = await client.get(new URL(summary.retrieveUrls[0]).pathname.replace(`/datastore/${fake.datastoreId}`, ''), { accept: 'application/dicom; transfer-syntax=*' });
    assert.deepEqual(retrieved.body, file);
  });

  test('multipart/related with the type quoted or not; a part that is not DICOM fails with 0xC000 -> 202', async () => {
    const good = [syntheticInstance({ seed: 21 }), syntheticInstance({ seed: 22 })];
    const { body } = multipartBody([good[0], Buffer.from('not dicom'), good[1]], 'b-1');
    for (const contentType of ['multipart/related; type="application/dicom"; boundary=b-1', 'multipart/related; type=application/dicom; boundary="b-1"']) {
      const answer = await client.request('dicomweb', { method: 'POST', path: `/datastore/${fake.datastoreId}/studies`, body, headers: { 'content-type': contentType, accept: 'application/dicom+json' } });
      assert.equal(answer.status, 202, answer.text());
      const summary = stowSummary(answer);
      assert.deepEqual(summary.stored, [uidFromSeed(21, 'instance'), uidFromSeed(22, 'instance')]);
      assert.deepEqual(summary.failed, [{ sop: undefined, reason: 0xc000 }]);
    }
  });

  test('StoreDICOMStudy: an instance of another study fails with 0xA900 (400 when nothing is stored); missing UIDs 0xA900', async () => {
    const study = uidFromSeed(23, 'study');
    const other = syntheticInstance({ seed: 24 });
    const answer = await client.stow([other], { study });
    assert.equal(answer.status, 400, answer.text());
    assert.deepEqual(stowSummary(answer).failed, [{ sop: uidFromSeed(24, 'instance'), reason: 0xa900 }]);
    const mixed = await client.stow([syntheticInstance({ seed: 23 }), other], { study });
    assert.equal(mixed.status, 202);
    assert.deepEqual(stowSummary(mixed).stored, [uidFromSeed(23, 'instance')]);
    const noUids = syntheticInstance({ seed: 25, extraElements: [{ tag: 'SeriesInstanceUID', value: '' }] });
    assert.deepEqual(stowSummary(await client.stow([noUids])).failed.map((f) => f.reason), [0xa900]);
  });

  test('the same instance again: identical bytes change nothing, other bytes replace it; both are listed as stored', async () => {
    const first = syntheticInstance({ seed: 26 });
    assert.equal((await client.stow([first])).status, 200);
    const again = await client.stow([first]);
    assert.equal(again.status, 200);
    assert.deepEqual(stowSummary(again).stored, [uidFromSeed(26, 'instance')]);
    const edited = syntheticInstance({ seed: 26, studyDescription: 'Edited' });
    const replaced = await client.stow([edited]);
    assert.equal(replaced.status, 200);
    const held = fake.instances().filter((i) => i.sopInstanceUid === uidFromSeed(26, 'instance'));
    assert.deepEqual(held.map((i) => i.sha256), [sha(edited)]);
    const [metadata] = (await client.get(`/studies/${uidFromSeed(26, 'study')}/series/${uidFromSeed(26, 'series')}/instances/${uidFromSeed(26, 'instance')}/metadata`)).json<DicomJson[]>();
    assert.deepEqual(metadata['00081030'].Value, ['Edited']);
  });

  test('a Content-Type that is neither application/dicom nor multipart/related of it -> 415, nothing read', async () => {
    const answer = await client.request('dicomweb', { method: 'POST', path: `/datastore/${fake.datastoreId}/studies`, body: Buffer.from('{}'), headers: { 'content-type': 'application/json' } });
    assert.equal(answer.status, 415);
    assert.equal(answer.headers['x-amzn-errortype'], 'UnsupportedMediaTypeException');
  });

  test('another datastore id -> 404 ResourceNotFoundException', async () => {
    const answer = await client.request('dicomweb', { method: 'POST', path: `/datastore/${'0'.repeat(32)}/studies`, body: syntheticInstance({ seed: 27 }), headers: { 'content-type': 'application/dicom' } });
    assert.equal(answer.status, 404);
    assert.equal(answer.headers['x-amzn-errortype'], 'ResourceNotFoundException');
  });
});

describe('STOW limits and switches', () => {
  let small: HealthImagingFake;
  before(async () => {
    small = await startHealthImagingFake({ maxStowBytes: 20_000, visibilityDelayMs: 300 });
  });
  after(() => small.close());

  test('a request larger than maxStowBytes -> 413 with x-amzn-ErrorType ValidationException, nothing stored', async () => {
    const big = syntheticInstance({ seed: 31, rows: 128, columns: 128 });
    assert.ok(big.length > 20_000);
    const answer = await fakeClient(small).stow([big]);
    assert.equal(answer.status, 413, answer.text());
    assert.equal(answer.headers['x-amzn-errortype'], 'ValidationException');
    assert.deepEqual(small.instances(), []);
    // Sent chunked, without a Content-Length: the limit is enforced while the body is read.
    const signed = await signRequest(small.dicomwebEndpoint, {
      method: 'POST',
      path: `/datastore/${small.datastoreId}/studies`,
      headers: { 'content-type': 'application/dicom' },
      payloadHash: 'UNSIGNED-PAYLOAD',
      credentials: small.credentials,
      region: small.region,
      service: 'medical-imaging',
    });
    const { host: _host, ...headers } = signed.headers;
    const chunked = await send(signed.url, { method: 'POST', headers, body: Readable.from([big.subarray(0, 10_000), big.subarray(10_000)]) });
    assert.equal(chunked.status, 413, chunked.text());
    assert.deepEqual(small.instances(), []);
    const fits = await fakeClient(small).stow([syntheticInstance({ seed: 32, rows: 16, columns: 16 })]);
    assert.equal(fits.status, 200, 'the limit is per request');
  });

  test('new data is invisible to searches and reads until the visibility delay has passed', async () => {
    const c = fakeClient(small);
    const file = syntheticInstance({ seed: 33, rows: 16, columns: 16, patientId: 'VISIBLE-LATER' });
    assert.equal((await c.stow([file])).status, 200);
    const path = `/studies/${uidFromSeed(33, 'study')}/series/${uidFromSeed(33, 'series')}/instances/${uidFromSeed(33, 'instance')}`;
    assert.deepEqual((await c.get('/studies?PatientID=VISIBLE-LATER')).json(), []);
    assert.equal((await c.get(path)).status, 404);
    assert.deepEqual(small.instances().find((i) => i.sopInstanceUid === uidFromSeed(33, 'instance'))?.visible, false);
    await sleep(350);
    assert.equal((await c.get('/studies?PatientID=VISIBLE-LATER')).json<unknown[]>().length, 1);
    assert.equal((await c.get(path)).status, 200);
  });

  test('with stowEnabled false StoreDICOM and StoreDICOMStudy are AccessDeniedException', async () => {
    const off = await startHealthImagingFake({ stowEnabled: false });
    try {
      const c = fakeClient(off);
      const answer = await c.stow([syntheticInstance({ seed: 34 })]);
      assert.equal(answer.status, 403);
      assert.equal(answer.headers['x-amzn-errortype'], 'AccessDeniedException');
      assert.match(answer.json<{ message: string }>().message, /is not authorized to perform: medical-imaging:StoreDICOM on resource/);
      const scoped = await c.stow([syntheticInstance({ seed: 34 })], { study: uidFromSeed(34, 'study') });
      assert.match(scoped.json<{ message: string }>().message, /medical-imaging:StoreDICOMStudy/);
      assert.equal((await c.get('/studies')).status, 200, 'searches still work');
    } finally {
      await off.close();
    }
  });
});
