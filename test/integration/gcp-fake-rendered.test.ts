/**
 * Rendered instances and frames on the Google Cloud Healthcare fake. PNGs are read back with an
 * independent decoder and compared, pixel for pixel, with the stored values put through the PS3.3
 * pipeline computed here: rescale, then the instance's window, a `window=` of the request, or the
 * frame's range when there is none; MONOCHROME1 inverted; RGB of either planar configuration.
 * JPEGs (Google's default) are decoded by dcmtk and compared within JPEG error. An instance
 * without pixels, compressed pixels, a bad window or several frames are 400.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { syntheticInstance, syntheticPixels, uidFromSeed } from '../fixtures/dicom-builder';
import { imageInstance, noise } from '../fixtures/wado-images';
import { samplesDir } from '../helpers/samples';
import { splitMultipart } from '../helpers/wado-client';
import { readPart10 } from '../fakes/dicom-archive/dcmjs-binding';
import { GcpFake, startGcpFake } from '../fakes/gcp';
import { GcpClient, allowedClient, googleError } from '../fakes/gcp/test-client/gcp-clients';
import { decodeJpegWithDcmtk, imageDifference } from '../fakes/gcp/test-client/dcmtk-jpeg-decoder';
import { decodePng } from '../fakes/gcp/test-client/png-decoder';

const PNG = { accept: 'image/png' };
const pathOf = (seed: number, study = uidFromSeed(seed, 'study'), series = uidFromSeed(seed, 'series')) => `/studies/${study}/series/${series}/instances/${uidFromSeed(seed, 'instance')}`;

/** PS3.3 C.11.2.1.2.1 LINEAR onto 0..255, written out again here so the fake's code is not its own judge. */
function linear(x: number, c: number, w: number): number {
  if (x <= c - 0.5 - (w - 1) / 2) return 0;
  if (x > c - 0.5 + (w - 1) / 2) return 255;
  return Math.round(((x - (c - 0.5)) / (w - 1) + 0.5) * 255);
}

function ctValues(seed: number, count: number, frame = 0): number[] {
  const raw = syntheticPixels(count * (frame + 1), seed);
  return Array.from({ length: count }, (_, i) => raw.readUInt16LE((frame * count + i) * 2) - 1024);
}

const gray8 = noise(64, 'gray8');
const rgbPlanar = noise(4 * 4 * 3, 'rgb');
const files = {
  ct: syntheticInstance({ seed: 901, rows: 8, columns: 8 }),
  ctFrames: syntheticInstance({ seed: 902, rows: 8, columns: 8, frames: 3 }),
  mono1: syntheticInstance({ seed: 903, rows: 8, columns: 8, extraElements: [{ tag: 'PhotometricInterpretation', value: 'MONOCHROME1' }] }),
  gray8: imageInstance({ seed: 904, rows: 8, columns: 8, frames: 1, bitsAllocated: 8, pixelData: { native: gray8, vr: 'OB' } }),
  rgb: imageInstance({ seed: 905, rows: 4, columns: 4, frames: 1, bitsAllocated: 8, samplesPerPixel: 3, planarConfiguration: 1, pixelData: { native: rgbPlanar, vr: 'OB' } }),
  rgbRle: readFileSync(join(samplesDir(), 'SC_rgb_rle_2frame.dcm')),
  j2k: readFileSync(join(samplesDir(), 'JPEG2000.dcm')),
  sr: readFileSync(join(samplesDir(), 'test-SR.dcm')),
};
const samplePath = (name: 'rgbRle' | 'j2k' | 'sr') => {
  const d = readPart10(files[name]).dict;
  return `/studies/${d['0020000D'].Value![0]}/series/${d['0020000E'].Value![0]}/instances/${d['00080018'].Value![0]}`;
};

let fake: GcpFake;
let client: GcpClient;
before(async () => {
  fake = await startGcpFake();
  client = await allowedClient(fake);
  assert.equal((await client.stow(Object.values(files))).status, 200);
});
after(() => fake.close());

describe('rendered PNG', () => {
  test('16-bit CT with the instance\'s window (40/400) and rescale intercept -1024', async () => {
    const answer = await client.get(`${pathOf(901)}/rendered`, PNG);
    assert.equal(answer.status, 200, answer.text());
    assert.equal(answer.headers['content-type'], 'image/png');
    const png = decodePng(answer.body);
    assert.deepEqual([png.width, png.height, png.channels], [8, 8, 1]);
    assert.deepEqual([...png.pixels], ctValues(901, 64).map((x) => linear(x, 40, 400)));
  });

  test('window=center,width,linear from the request wins; MONOCHROME1 is inverted', async () => {
    const asked = decodePng((await client.get(`${pathOf(901)}/rendered?window=1000,2000,linear`, PNG)).body);
    assert.deepEqual([...asked.pixels], ctValues(901, 64).map((x) => linear(x, 1000, 2000)));
    const inverted = decodePng((await client.get(`${pathOf(903)}/rendered`, PNG)).body);
    assert.deepEqual([...inverted.pixels], ctValues(903, 64).map((x) => 255 - linear(x, 40, 400)));
  });

  test('a rendered frame of a multi-frame instance is that frame', async () => {
    const png = decodePng((await client.get(`${pathOf(902)}/frames/2/rendered`, PNG)).body);
    assert.deepEqual([...png.pixels], ctValues(902, 64, 1).map((x) => linear(x, 40, 400)));
  });

  test('8-bit grayscale without a window: the frame\'s minimum to maximum onto 0..255', async () => {
    const min = Math.min(...gray8);
    const max = Math.max(...gray8);
    const png = decodePng((await client.get(`${pathOf(904)}/rendered`, PNG)).body);
    assert.deepEqual([...png.pixels], [...gray8].map((x) => Math.round(((x - min) / (max - min)) * 255)));
  });

  test('RGB: plane-interleaved pixels come out as an RGB PNG; an RLE RGB frame equals its decoded frame', async () => {
    const png = decodePng((await client.get(`${pathOf(905)}/rendered`, PNG)).body);
    assert.equal(png.channels, 3);
    const interleaved = Buffer.alloc(48);
    for (let p = 0; p < 16; p++) for (let s = 0; s < 3; s++) interleaved[p * 3 + s] = rgbPlanar[s * 16 + p];
    assert.deepEqual(png.pixels, interleaved);
    const path = samplePath('rgbRle');
    const rendered = decodePng((await client.get(`${path}/frames/2/rendered`, PNG)).body);
    const [frame] = await splitMultipart(await client.get(`${path}/frames/2`));
    assert.deepEqual([rendered.width, rendered.height, rendered.channels], [100, 100, 3]);
    assert.deepEqual(rendered.pixels, frame.body);
  });
});

describe('rendered JPEG (read back with dcmtk)', () => {
  test('JPEG is the default: no Accept, */*, image/jpeg, or JPEG listed before PNG', async () => {
    const cases: Record<string, string>[] = [{}, { accept: '*/*' }, { accept: 'image/jpeg' }, { accept: 'image/jpeg, image/png' }];
    for (const headers of cases) {
      const answer = await client.get(`${pathOf(901)}/rendered`, headers);
      assert.equal(answer.status, 200, JSON.stringify(headers));
      assert.equal(answer.headers['content-type'], 'image/jpeg');
      assert.deepEqual([...answer.body.subarray(0, 3)], [0xff, 0xd8, 0xff], 'SOI, then a marker');
    }
  });

  test('grayscale: the decoded JPEG is the windowed frame within JPEG error; quality=100 is closer than quality=10', async () => {
    const expected = Buffer.from(ctValues(901, 64).map((x) => linear(x, 40, 400)));
    const fine = decodeJpegWithDcmtk((await client.get(`${pathOf(901)}/rendered?quality=100`)).body);
    assert.deepEqual([fine.width, fine.height, fine.channels], [8, 8, 1]);
    const fineError = imageDifference(fine.pixels, expected);
    assert.ok(fineError.mean < 2, `mean error ${fineError.mean}`);
    const coarse = imageDifference(decodeJpegWithDcmtk((await client.get(`${pathOf(901)}/rendered?quality=10`)).body).pixels, expected);
    assert.ok(coarse.mean > fineError.mean, `quality 10 (${coarse.mean}) is not worse than 100 (${fineError.mean})`);
    assert.equal((await client.get(`${pathOf(901)}/rendered?quality=0`)).status, 400);
  });

  test('RGB: the decoded JPEG is the RLE frame within JPEG error', async () => {
    const path = samplePath('rgbRle');
    const [frame] = await splitMultipart(await client.get(`${path}/frames/1`));
    const decoded = decodeJpegWithDcmtk((await client.get(`${path}/frames/1/rendered?quality=95`)).body);
    assert.deepEqual([decoded.width, decoded.height, decoded.channels], [100, 100, 3]);
    const error = imageDifference(decoded.pixels, frame.body);
    assert.ok(error.mean < 3, `mean error ${error.mean}`);
  });
});

describe('rendered refusals', () => {
  test('an Accept that is no image type is 406', async () => {
    for (const accept of ['application/dicom', 'image/gif', 'multipart/related; type="image/png"']) {
      const answer = await client.get(`${pathOf(901)}/rendered`, { accept });
      assert.equal(answer.status, 406, accept);
      assert.equal(googleError(answer).code, 406);
    }
  });

  test('no pixels, compressed pixels, a bad window, two frames: 400 INVALID_ARGUMENT; a frame past the last: 404', async () => {
    for (const path of [`${samplePath('sr')}/rendered`, `${samplePath('j2k')}/rendered`, `${pathOf(901)}/rendered?window=40`, `${pathOf(902)}/frames/1,2/rendered`]) {
      const answer = await client.get(path, PNG);
      assert.equal(answer.status, 400, path);
      assert.equal(googleError(answer).status, 'INVALID_ARGUMENT');
    }
    assert.equal((await client.get(`${pathOf(902)}/frames/4/rendered`, PNG)).status, 404);
  });
});
