/**
 * WADO-RS on the Google Cloud Healthcare fake: study, series and instance retrieve as
 * multipart/related (ELE by default, `*` or the stored UID as stored, Implicit/Deflated/RLE
 * converted, JPEG 2000 406), the instance as single-part application/dicom, metadata at each level
 * with BulkDataURIs by tag path, bulk data through those URIs, frames (octet-stream, image/jpeg for
 * JPEG baseline, 404 past the last frame) and what Google does not offer (thumbnails).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { syntheticInstance, uidFromSeed } from '../fixtures/dicom-builder';
import { codestream, encapsulateFrames, imageInstance, noise } from '../fixtures/wado-images';
import { HttpAnswer, send } from '../helpers/http-client';
import { samplesDir } from '../helpers/samples';
import { splitMultipart } from '../helpers/wado-client';
import { readPart10 } from '../fakes/dicom-archive/dcmjs-binding';
import { binaryBytes } from '../fakes/dicom-archive/dicom-json';
import { GcpFake, startGcpFake } from '../fakes/gcp';
import { DicomJson, GcpClient, allowedClient, googleError } from '../fakes/gcp/test-client/gcp-clients';

const ELE = '1.2.840.10008.1.2.1';
const JPEG = '1.2.840.10008.1.2.4.50';
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
const syntaxOf = (file: Buffer) => String(readPart10(file).meta['00020010'].Value?.[0]);

const bigBlob = noise(1_100_000, 'blob');
const icon = [[
  { tag: 'SamplesPerPixel', value: 1 }, { tag: 'PhotometricInterpretation', value: 'MONOCHROME2' }, { tag: 'Rows', value: 2 }, { tag: 'Columns', value: 2 },
  { tag: 'BitsAllocated', value: 8 }, { tag: 'BitsStored', value: 8 }, { tag: 'HighBit', value: 7 }, { tag: 'PixelRepresentation', value: 0 },
  { tag: 'PixelData', vr: 'OB', value: Buffer.from([1, 2, 3, 4]) },
]];
const multiframe = syntheticInstance({
  seed: 801, rows: 4, columns: 4, frames: 3,
  extraElements: [{ tag: 0x00091010, vr: 'LO', value: 'FAKE' }, { tag: 0x00091001, vr: 'OB', value: bigBlob }, { tag: 0x00091002, vr: 'OB', value: Buffer.alloc(16, 9) }, { tag: 'IconImageSequence', value: icon }],
});
const second = syntheticInstance({ seed: 802, rows: 4, columns: 4, studyUid: uidFromSeed(801, 'study'), seriesUid: uidFromSeed(801, 'series'), instanceNumber: 2 });
const jpegFrames = [codestream('jpeg', 300, 'f1'), codestream('jpeg', 302, 'f2')];
const jpeg = imageInstance({ seed: 803, rows: 8, columns: 8, frames: 2, bitsAllocated: 8, transferSyntaxUid: JPEG, pixelData: encapsulateFrames(jpegFrames.map((f) => [f])), lossy: true });
// Synthetic Big Endian: the MR_small samples share their UIDs, and the store keeps only the first.
const files = { implicit: sample('MR_small_implicit.dcm'), bigEndian: syntheticInstance({ seed: 804, rows: 4, columns: 4, transferSyntaxUid: '1.2.840.10008.1.2.2' }), rgbRle: sample('SC_rgb_rle_2frame.dcm'), deflated: sample('image_dfl.dcm'), j2k: sample('JPEG2000.dcm'), multiframe, second, jpeg };

let fake: GcpFake;
let client: GcpClient;
before(async () => {
  fake = await startGcpFake();
  client = await allowedClient(fake);
  for (const file of Object.values(files)) assert.equal((await client.stow([file])).status, 200);
});
after(() => fake.close());

function assertGoogleError(answer: HttpAnswer, code: number): void {
  assert.equal(answer.status, code, answer.text());
  assert.match(String(answer.headers['content-type']), /^application\/json/);
  assert.equal(googleError(answer).code, code);
}

describe('study, series and instance retrieve', () => {
  test('an instance by default: multipart/related of one ELE part; Implicit VR and Deflated converted', async () => {
    for (const file of [files.implicit, files.deflated]) {
      for (const accept of [undefined, '*/*', 'multipart/related; type="application/dicom"', `multipart/related; type=application/dicom; transfer-syntax=${ELE}`]) {
        const answer = await client.get(pathOf(file), accept ? { accept } : {});
        assert.equal(answer.status, 200, answer.text());
        assert.match(String(answer.headers['content-type']), /^multipart\/related; type="application\/dicom"; boundary=/);
        const parts = await splitMultipart(answer);
        assert.equal(parts.length, 1);
        assert.equal(parts[0].contentType, `application/dicom; transfer-syntax=${ELE}`);
        assert.equal(syntaxOf(parts[0].body), ELE);
        assert.deepEqual(pixelsOf(parts[0].body), pixelsOf(file));
      }
    }
  });

  test('transfer-syntax=* or the stored UID: the stored bytes; single-part application/dicom for an instance', async () => {
    const parts = await splitMultipart(await client.get(pathOf(files.implicit), { accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' }));
    assert.deepEqual(parts[0].body, files.implicit);
    assert.equal(parts[0].contentType, 'application/dicom; transfer-syntax=1.2.840.10008.1.2');
    const single = await client.get(pathOf(files.j2k), { accept: 'application/dicom; transfer-syntax=1.2.840.10008.1.2.4.91' });
    assert.equal(single.status, 200);
    assert.equal(single.headers['content-type'], 'application/dicom; transfer-syntax=1.2.840.10008.1.2.4.91');
    assert.deepEqual(single.body, files.j2k);
    const singleEle = await client.get(pathOf(files.implicit), { accept: 'application/dicom' });
    assert.equal(singleEle.headers['content-type'], `application/dicom; transfer-syntax=${ELE}`);
  });

  test('RLE is decoded for ELE; JPEG 2000, Big Endian to ELE and ELE to JPEG cannot be produced: 406', async () => {
    const [rle] = await splitMultipart(await client.get(pathOf(files.rgbRle)));
    assert.equal(syntaxOf(rle.body), ELE);
    assert.equal(pixelsOf(rle.body).length, 100 * 100 * 3 * 2);
    assertGoogleError(await client.get(pathOf(files.j2k)), 406);
    assertGoogleError(await client.get(pathOf(files.bigEndian)), 406);
    assertGoogleError(await client.get(pathOf(files.implicit), { accept: `multipart/related; type="application/dicom"; transfer-syntax=${JPEG}` }), 406);
    const fallback = await client.get(pathOf(files.j2k), { accept: `multipart/related; type="application/dicom"; transfer-syntax=${ELE}, multipart/related; type="application/dicom"; transfer-syntax=*` });
    assert.equal(fallback.status, 200, 'a later Accept range that can be served is used');
  });

  test('a series and a study: one part per instance by InstanceNumber; application/dicom is not offered for them', async () => {
    const [st, se] = uidsOf(multiframe);
    for (const path of [`/studies/${st}/series/${se}`, `/studies/${st}`]) {
      const parts = await splitMultipart(await client.get(path));
      assert.deepEqual(parts.map((p) => uidsOf(p.body)[2]), [uidFromSeed(801, 'instance'), uidFromSeed(802, 'instance')]);
      assertGoogleError(await client.get(path, { accept: 'application/dicom' }), 406);
    }
    assertGoogleError(await client.get(`/studies/${uidFromSeed(899, 'study')}`), 404);
    assertGoogleError(await client.get(`/studies/${st}/series/${se}/instances/${uidFromSeed(899, 'instance')}`), 404);
  });
});

describe('metadata and bulk data', () => {
  test('instance, series and study metadata: Pixel Data, values over 1 MiB and nested pixels as BulkDataURIs by tag path', async () => {
    const [st, se, sop] = uidsOf(multiframe);
    const base = `${fake.dicomWebRoot}/studies/${st}/series/${se}/instances/${sop}/bulkdata`;
    const [m] = (await client.get(`${pathOf(multiframe)}/metadata`)).json<DicomJson[]>();
    assert.deepEqual(m['7FE00010'], { vr: 'OW', BulkDataURI: `${base}/7FE00010` });
    assert.deepEqual(m['00091001'], { vr: 'OB', BulkDataURI: `${base}/00091001` });
    assert.equal(m['00091002'].InlineBinary, Buffer.alloc(16, 9).toString('base64'));
    assert.equal((m['00880200'].Value as DicomJson[])[0]['7FE00010'].BulkDataURI, `${base}/00880200/0/7FE00010`);
    assert.equal((await client.get(`/studies/${st}/series/${se}/metadata`)).json<unknown[]>().length, 2);
    const study = await client.get(`/studies/${st}/metadata`);
    assert.equal(study.headers['content-type'], 'application/dicom+json');
    assert.equal(study.json<unknown[]>().length, 2);
    assertGoogleError(await client.get(`/studies/${st}/metadata`, { accept: 'application/dicom' }), 406);
  });

  test('bulk data through the BulkDataURIs: one octet-stream part with the value\'s bytes, little endian', async () => {
    const [m] = (await client.get(`${pathOf(multiframe)}/metadata`)).json<DicomJson[]>();
    const get = (uri: string, headers: Record<string, string> = {}) => send(uri, { headers: { authorization: `Bearer ${client.token}`, ...headers } });
    const blob = await splitMultipart(await get(m['00091001'].BulkDataURI!));
    assert.equal(blob.length, 1);
    assert.equal(blob[0].contentType, 'application/octet-stream');
    assert.deepEqual(blob[0].body, bigBlob);
    assert.deepEqual((await splitMultipart(await get(m['7FE00010'].BulkDataURI!)))[0].body, pixelsOf(multiframe));
    const nested = (m['00880200'].Value as DicomJson[])[0]['7FE00010'].BulkDataURI!;
    assert.deepEqual((await splitMultipart(await get(nested, { accept: 'multipart/related; type="application/octet-stream"' })))[0].body, Buffer.from([1, 2, 3, 4]));
    assertGoogleError(await get(m['7FE00010'].BulkDataURI!, { accept: 'application/octet-stream' }), 406);
    assertGoogleError(await client.get(`${pathOf(multiframe)}/bulkdata/00100010`), 404);
    const [bigEndian] = (await client.get(`${pathOf(files.bigEndian)}/metadata`)).json<DicomJson[]>();
    const swapped = (await splitMultipart(await get(bigEndian['7FE00010'].BulkDataURI!)))[0].body;
    assert.deepEqual(swapped, Buffer.from(pixelsOf(files.bigEndian)).swap16(), 'Big Endian pixels come out little endian');
    const [enc] = (await client.get(`${pathOf(jpeg)}/metadata`)).json<DicomJson[]>();
    const frames = await splitMultipart(await get(enc['7FE00010'].BulkDataURI!));
    assert.deepEqual(frames.map((p) => p.body), jpegFrames, 'encapsulated Pixel Data: one part per frame');
  });
});

describe('frames', () => {
  test('native frames in ELE by default, in the order asked; 404 past the last frame; a bad list is 400', async () => {
    const answer = await client.get(`${pathOf(multiframe)}/frames/3,1`);
    assert.equal(answer.status, 200, answer.text());
    assert.match(String(answer.headers['content-type']), /^multipart\/related; type="application\/octet-stream"/);
    const parts = await splitMultipart(answer);
    const pixels = pixelsOf(multiframe);
    assert.deepEqual(parts.map((p) => p.body), [pixels.subarray(64, 96), pixels.subarray(0, 32)]);
    assert.equal(parts[0].contentType, `application/octet-stream; transfer-syntax=${ELE}`);
    assertGoogleError(await client.get(`${pathOf(multiframe)}/frames/4`), 404);
    assertGoogleError(await client.get(`${pathOf(multiframe)}/frames/0`), 400);
  });

  test('RLE frames decoded by default, as stored with *; JPEG baseline frames as image/jpeg; image/jpeg of native frames is 406', async () => {
    const decoded = await splitMultipart(await client.get(`${pathOf(files.rgbRle)}/frames/2`));
    assert.equal(decoded[0].body.length, 100 * 100 * 3);
    const stored = await splitMultipart(await client.get(`${pathOf(files.rgbRle)}/frames/2`, { accept: 'multipart/related; type="application/octet-stream"; transfer-syntax=*' }));
    assert.equal(stored[0].contentType, 'application/octet-stream; transfer-syntax=1.2.840.10008.1.2.5');
    assert.equal(stored[0].body.readUInt32LE(0), 3, 'an RLE header with three segments');
    const asJpeg = await client.get(`${pathOf(jpeg)}/frames/1,2`, { accept: `multipart/related; type="image/jpeg"; transfer-syntax=${JPEG}` });
    assert.match(String(asJpeg.headers['content-type']), /^multipart\/related; type="image\/jpeg"/);
    const jpegParts = await splitMultipart(asJpeg);
    assert.deepEqual(jpegParts.map((p) => p.body), jpegFrames);
    assert.equal(jpegParts[0].contentType, `image/jpeg; transfer-syntax=${JPEG}`);
    assertGoogleError(await client.get(`${pathOf(multiframe)}/frames/1`, { accept: 'multipart/related; type="image/jpeg"' }), 406);
    assertGoogleError(await client.get(`${pathOf(jpeg)}/frames/1`), 406);
  });
});

describe('what Google does not offer', () => {
  test('thumbnails, series rendered, WADO-URI and DELETE are 404', async () => {
    const [st, se] = uidsOf(multiframe);
    for (const path of [`${pathOf(multiframe)}/thumbnail`, `/studies/${st}/series/${se}/rendered`, `/studies/${st}/thumbnail`, '/wado?requestType=WADO']) {
      assertGoogleError(await client.get(path), 404);
    }
    const del = await send(`${fake.dicomWebRoot}${pathOf(multiframe)}`, { method: 'DELETE', headers: { authorization: `Bearer ${client.token}` } });
    assert.equal(del.status, 404);
  });
});
