/**
 * WADO-RS on the HealthImaging fake: GetDICOMInstance (single-part Part 10, Explicit VR Little
 * Endian by default, `*` as stored, 406 NotAcceptableException for what cannot be produced),
 * instance and series metadata with absolute BulkDataURIs over the threshold, GetDICOMBulkdata,
 * GetDICOMInstanceFrames in the stored syntax and as ELE, the frame-list errors, and the
 * operations HealthImaging does not offer.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { syntheticInstance, syntheticPixels, uidFromSeed } from '../fixtures/dicom-builder';
import { HttpAnswer } from '../helpers/http-client';
import { samplesDir } from '../helpers/samples';
import { splitMultipart } from '../helpers/wado-client';
import { readPart10 } from '../fakes/dicom-archive/dcmjs-binding';
import { binaryBytes } from '../fakes/dicom-archive/dicom-json';
import { HealthImagingFake, startHealthImagingFake } from '../fakes/healthimaging';
import { DicomJson, FakeClient, fakeClient } from '../fakes/healthimaging/test-client/fake-clients';

const ELE = '1.2.840.10008.1.2.1';
const sample = (name: string) => readFileSync(join(samplesDir(), name));
const uidsOf = (file: Buffer) => {
  const d = readPart10(file).dict;
  return ['0020000D', '0020000E', '00080018'].map((t) => String(d[t].Value?.[0])) as [string, string, string];
};
const pathOf = (file: Buffer) => {
  const [st, se, sop] = uidsOf(file);
  return `/studies/${st}/series/${se}/instances/${sop}`;
};
const pixelsOf = (file: Buffer) => binaryBytes(readPart10(file).dict['7FE00010']);

let fake: HealthImagingFake;
let client: FakeClient;
const privateBlob = Buffer.from([...Array(3000).keys()].map((i) => (i * 7) & 0xff));
const synthetic = syntheticInstance({ seed: 41, rows: 4, columns: 4, frames: 3, extraElements: [{ tag: 0x00091010, vr: 'LO', value: 'FAKE' }, { tag: 0x00091001, vr: 'OB', value: privateBlob }, { tag: 0x00091002, vr: 'OB', value: Buffer.alloc(16, 9) }] });
const second = syntheticInstance({ seed: 42, rows: 4, columns: 4, studyUid: uidFromSeed(41, 'study'), seriesUid: uidFromSeed(41, 'series'), instanceNumber: 2 });
const files = { implicit: sample('MR_small_implicit.dcm'), rgbRle: sample('SC_rgb_rle_2frame.dcm'), j2k: sample('JPEG2000.dcm'), sr: sample('test-SR.dcm'), synthetic, second };

before(async () => {
  fake = await startHealthImagingFake({ bulkDataThresholdBytes: 1024 });
  client = fakeClient(fake);
  for (const file of Object.values(files)) assert.equal((await client.stow([file])).status, 200);
});
after(() => fake.close());

function assertAwsError(answer: HttpAnswer, status: number, type: string): void {
  assert.equal(answer.status, status, answer.text());
  assert.equal(answer.headers['x-amzn-errortype'], type);
}

describe('GetDICOMInstance', () => {
  test('default (no Accept, */*, no transfer-syntax) is Explicit VR Little Endian: Implicit is re-encoded', async () => {
    for (const accept of [undefined, '*/*', 'application/dicom', `application/dicom; transfer-syntax=${ELE}`]) {
      const answer = await client.get(pathOf(files.implicit), accept ? { accept } : {});
      assert.equal(answer.status, 200, answer.text());
      assert.equal(answer.headers['content-type'], `application/dicom; transfer-syntax=${ELE}`);
      const reread = readPart10(answer.body);
      assert.deepEqual(reread.meta['00020010'].Value, [ELE]);
      assert.deepEqual(binaryBytes(reread.dict['7FE00010']), pixelsOf(files.implicit));
    }
  });

  test('transfer-syntax=* or the stored UID: the stored file byte for byte', async () => {
    for (const accept of ['application/dicom; transfer-syntax=*', 'application/dicom; transfer-syntax=1.2.840.10008.1.2']) {
      const answer = await client.get(pathOf(files.implicit), { accept });
      assert.equal(answer.headers['content-type'], 'application/dicom; transfer-syntax=1.2.840.10008.1.2');
      assert.deepEqual(answer.body, files.implicit);
    }
  });

  test('RLE is decoded for ELE; JPEG 2000 cannot be: 406, unless a later Accept range can be served', async () => {
    const rle = await client.get(pathOf(files.rgbRle));
    assert.equal(rle.status, 200);
    assert.deepEqual(readPart10(rle.body).meta['00020010'].Value, [ELE]);
    assertAwsError(await client.get(pathOf(files.j2k)), 406, 'NotAcceptableException');
    assertAwsError(await client.get(pathOf(files.j2k), { accept: 'application/dicom; transfer-syntax=1.2.840.10008.1.2.4.50' }), 406, 'NotAcceptableException');
    const listed = await client.get(pathOf(files.j2k), { accept: `application/dicom; transfer-syntax=${ELE}, application/dicom; transfer-syntax=*` });
    assert.equal(listed.status, 200);
    assert.equal(listed.headers['content-type'], 'application/dicom; transfer-syntax=1.2.840.10008.1.2.4.91');
    assert.deepEqual(listed.body, files.j2k);
    assertAwsError(await client.get(pathOf(files.j2k), { accept: 'multipart/related; type="application/dicom"' }), 406, 'NotAcceptableException');
  });

  test('an instance that does not exist, or under another series -> 404 ResourceNotFoundException', async () => {
    const [st, , sop] = uidsOf(files.synthetic);
    assertAwsError(await client.get(`/studies/${st}/series/1.2.3/instances/${sop}`), 404, 'ResourceNotFoundException');
    assertAwsError(await client.get(`/studies/${st}/series/1.2.3/instances/9.9.9`), 404, 'ResourceNotFoundException');
  });
});

describe('metadata and bulk data', () => {
  test('instance metadata: large binaries and Pixel Data as absolute BulkDataURIs that GetDICOMBulkdata serves', async () => {
    const answer = await client.get(`${pathOf(files.synthetic)}/metadata`);
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['content-type'], 'application/dicom+json');
    const [m] = answer.json<DicomJson[]>();
    assert.deepEqual(m['00091002'], { vr: 'OB', InlineBinary: Buffer.alloc(16, 9).toString('base64') });
    const prefix = `${fake.dicomwebEndpoint}/datastore/${fake.datastoreId}${pathOf(files.synthetic)}/bulkdata/`;
    for (const tag of ['00091001', '7FE00010']) assert.ok(String(m[tag].BulkDataURI).startsWith(prefix), `${tag}: ${m[tag].BulkDataURI}`);
    const bulk = await client.get(new URL(String(m['00091001'].BulkDataURI)).pathname.replace(`/datastore/${fake.datastoreId}`, ''));
    assert.equal(bulk.status, 200);
    assert.equal(bulk.headers['content-type'], 'application/octet-stream');
    assert.deepEqual(bulk.body, privateBlob);
    const pixels = await client.get(new URL(String(m['7FE00010'].BulkDataURI)).pathname.replace(`/datastore/${fake.datastoreId}`, ''));
    assert.deepEqual(pixels.body, syntheticPixels(4 * 4 * 3, 41));
    assertAwsError(await client.get(`${pathOf(files.synthetic)}/bulkdata/0123456789abcdef`), 404, 'ResourceNotFoundException');
  });

  test('series metadata: every instance of the series, by InstanceNumber; encapsulated Pixel Data bulk as frames', async () => {
    const [st, se] = uidsOf(files.synthetic);
    const series = (await client.get(`/studies/${st}/series/${se}/metadata`)).json<DicomJson[]>();
    assert.deepEqual(series.map((m) => m['00200013'].Value?.[0]), [1, 2]);
    const [rle] = (await client.get(`${pathOf(files.rgbRle)}/metadata`)).json<DicomJson[]>();
    const bulk = await client.get(new URL(String(rle['7FE00010'].BulkDataURI)).pathname.replace(`/datastore/${fake.datastoreId}`, ''));
    const parts = await splitMultipart(bulk);
    assert.equal(parts.length, 2);
    assert.equal(parts[0].contentType, 'application/octet-stream; transfer-syntax=1.2.840.10008.1.2.5');
  });
});

describe('GetDICOMInstanceFrames', () => {
  test('default ELE: RLE frames decoded, one part per frame in the order asked', async () => {
    const answer = await client.get(`${pathOf(files.rgbRle)}/frames/2,1`);
    assert.equal(answer.status, 200, answer.text());
    assert.match(String(answer.headers['content-type']), /^multipart\/related; type="application\/octet-stream"; boundary=/);
    const parts = await splitMultipart(answer);
    assert.deepEqual(parts.map((p) => p.contentType), [`application/octet-stream; transfer-syntax=${ELE}`, `application/octet-stream; transfer-syntax=${ELE}`]);
    assert.deepEqual(parts.map((p) => p.body.length), [30000, 30000]);
  });

  test('transfer-syntax=* (type quoted or not) gives the stored frames; native frames by arithmetic', async () => {
    for (const accept of ['multipart/related; type=application/octet-stream; transfer-syntax=*', 'multipart/related; type="application/octet-stream"; transfer-syntax=1.2.840.10008.1.2.5']) {
      const parts = await splitMultipart(await client.get(`${pathOf(files.rgbRle)}/frames/1`, { accept }));
      assert.equal(parts[0].contentType, 'application/octet-stream; transfer-syntax=1.2.840.10008.1.2.5');
      assert.ok(parts[0].body.length < 30000);
    }
    const native = await splitMultipart(await client.get(`${pathOf(files.synthetic)}/frames/3`));
    assert.deepEqual(native[0].body, syntheticPixels(4 * 4 * 3, 41).subarray(64, 96));
  });

  test('JPEG 2000 frames as stored only: ELE -> 406 NotAcceptableException', async () => {
    assertAwsError(await client.get(`${pathOf(files.j2k)}/frames/1`), 406, 'NotAcceptableException');
    const parts = await splitMultipart(await client.get(`${pathOf(files.j2k)}/frames/1`, { accept: 'multipart/related; type=application/octet-stream; transfer-syntax=1.2.840.10008.1.2.4.91' }));
    assert.equal(parts[0].contentType, 'application/octet-stream; transfer-syntax=1.2.840.10008.1.2.4.91');
  });

  test('frame lists: 0, repeats and non-numbers 400; past the last frame 404; no Pixel Data 404', async () => {
    for (const list of ['0', '1,1', 'x', '1,']) assertAwsError(await client.get(`${pathOf(files.synthetic)}/frames/${list}`), 400, 'ValidationException');
    assertAwsError(await client.get(`${pathOf(files.synthetic)}/frames/4`), 404, 'ResourceNotFoundException');
    assertAwsError(await client.get(`${pathOf(files.sr)}/frames/1`), 404, 'ResourceNotFoundException');
  });
});

describe('operations HealthImaging does not offer', () => {
  test('study and series retrieve, study metadata, rendered, thumbnail, DELETE -> 404 UnknownOperationException', async () => {
    const [st, se, sop] = uidsOf(files.synthetic);
    for (const path of [`/studies/${st}`, `/studies/${st}/series/${se}`, `/studies/${st}/metadata`, `/studies/${st}/series/${se}/instances/${sop}/rendered`, `/studies/${st}/thumbnail`, `/studies/${st}/series/${se}/instances/${sop}/frames/1/rendered`]) {
      assertAwsError(await client.get(path), 404, 'UnknownOperationException');
    }
    const deletion = await client.request('dicomweb', { method: 'DELETE', path: `/datastore/${fake.datastoreId}/studies/${st}` });
    assertAwsError(deletion, 404, 'UnknownOperationException');
    assert.ok(fake.instances().some((i) => i.studyInstanceUid === st), 'nothing deleted');
  });
});
