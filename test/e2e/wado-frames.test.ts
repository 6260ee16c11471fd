/**
 * Frames (PS3.18 10.4.1.1.4) of generated multi-frame data: native by offset arithmetic (16-bit,
 * RGB, 1-bit packed across byte boundaries, big endian), encapsulated with a Basic Offset Table,
 * with an Extended Offset Table, and with several fragments per frame and no table (found by
 * codestream markers at ingest). Byte-exact, in the order asked, with the media types of PS3.18
 * Table 8.7.3-5; and the errors of frame lists.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TS } from '../../src/dicom/transfer-syntax';
import { syntheticPixels } from '../fixtures/dicom-builder';
import { codestream, encapsulateFrames, fragmented, imageInstance, noise } from '../fixtures/wado-images';
import { RunningGateway, startInProcessGateway } from '../helpers/test-gateway';
import { get, getParts, local, stow } from '../helpers/wado-client';

const STAR = 'multipart/related; type="application/octet-stream"; transfer-syntax=*';
const J2K_LOSSLESS = '1.2.840.10008.1.2.4.90';
const JPEG_BASELINE = '1.2.840.10008.1.2.4.50';
const HTJ2K = '1.2.840.10008.1.2.4.201';

/** Bit-packed frames cut independently of the gateway: bit k of the value is pixel k. */
function packedFrame(value: Buffer, bitsPerFrame: number, frame: number): Buffer {
  const out = Buffer.alloc(Math.ceil(bitsPerFrame / 8));
  for (let i = 0; i < bitsPerFrame; i++) {
    const k = (frame - 1) * bitsPerFrame + i;
    if ((value[k >> 3] >> (k & 7)) & 1) out[i >> 3] |= 1 << (i & 7);
  }
  return out;
}

describe('WADO-RS frames', () => {
  let gw: RunningGateway;
  const urls: Record<string, string> = {};
  const frames: Record<string, Buffer[]> = {};

  before(async () => {
    gw = await startInProcessGateway();
    const add = async (name: string, file: Buffer, expected: Buffer[]) => {
      urls[name] = local((await stow(gw.baseUrl, [file]))[0], gw.baseUrl);
      frames[name] = expected;
    };
    // 16-bit, 5 frames of 32x24.
    const px16 = syntheticPixels(32 * 24 * 5, 11);
    await add('native16', imageInstance({ seed: 1, rows: 24, columns: 32, frames: 5, pixelData: { native: px16 } }),
      [0, 1, 2, 3, 4].map((i) => px16.subarray(i * 1536, (i + 1) * 1536)));
    // RGB 8-bit, 3 frames of 7x5 (odd frame size: 105 bytes).
    const rgb = noise(7 * 5 * 3 * 3 + 1, 'rgb');
    await add('rgb', imageInstance({ seed: 2, rows: 5, columns: 7, frames: 3, samplesPerPixel: 3, bitsAllocated: 8, pixelData: { native: rgb, vr: 'OB' } }),
      [0, 1, 2].map((i) => rgb.subarray(i * 105, (i + 1) * 105)));
    // 1-bit, 4 frames of 5x5: 25 bits a frame, so frames 2-4 start inside a byte.
    const bits = noise(14, 'bits');
    await add('bits', imageInstance({ seed: 3, rows: 5, columns: 5, frames: 4, bitsAllocated: 1, pixelData: { native: bits, vr: 'OB' } }),
      [1, 2, 3, 4].map((n) => packedFrame(bits, 25, n)));
    // Explicit VR Big Endian: frames come back little endian.
    const pxBe = syntheticPixels(16 * 16 * 3, 12, false);
    await add('bigEndian', imageInstance({ seed: 4, rows: 16, columns: 16, frames: 3, transferSyntaxUid: TS.ExplicitVRBigEndian, pixelData: { native: pxBe } }),
      [0, 1, 2].map((i) => Buffer.from(pxBe.subarray(i * 512, (i + 1) * 512)).swap16()));
    // JPEG 2000 lossless, Basic Offset Table, two fragments per frame.
    const j2k = [1, 2, 3].map((i) => codestream('j2k', 300 + 20 * i, `j2k${i}`));
    const j2kEnc = encapsulateFrames(fragmented(j2k, 2));
    await add('j2kBot', imageInstance({ seed: 5, rows: 16, columns: 16, frames: 3, transferSyntaxUid: J2K_LOSSLESS, pixelData: j2kEnc }), j2k);
    // JPEG baseline (lossy), three fragments per frame, empty Basic Offset Table: markers found at ingest.
    const jpeg = [1, 2, 3, 4].map((i) => codestream('jpeg', 400 + 30 * i, `jpeg${i}`));
    await add('jpegScan', imageInstance({ seed: 6, rows: 16, columns: 16, frames: 4, transferSyntaxUid: JPEG_BASELINE, lossy: true, pixelData: { fragments: fragmented(jpeg, 3).flat() } }), jpeg);
    // HTJ2K with an Extended Offset Table (one fragment per frame, Basic Offset Table empty, PS3.5 A.4).
    const ht = [1, 2].map((i) => codestream('j2k', 250 + 10 * i, `ht${i}`));
    const eot = [0, ht[0].length + 8];
    await add('htEot', imageInstance({
      seed: 7, rows: 16, columns: 16, frames: 2, transferSyntaxUid: HTJ2K, pixelData: { fragments: ht },
      extraElements: [{ tag: 0x7fe00001, vr: 'OV', value: eot }, { tag: 0x7fe00002, vr: 'OV', value: ht.map((h) => h.length) }],
    }), ht);
  });
  after(async () => gw.stop());

  test('native frames by offset: in the order asked, byte-exact, default and transfer-syntax=* alike', async () => {
    for (const name of ['native16', 'rgb', 'bits', 'bigEndian']) {
      const count = frames[name].length;
      const order = [count, 1, ...(count > 2 ? [2] : [])];
      for (const accept of [undefined, STAR, 'multipart/related; type="application/octet-stream"']) {
        const { parts } = await getParts(`${urls[name]}/frames/${order.join(',')}`, accept);
        assert.deepEqual(parts.map((p) => p.body), order.map((n) => frames[name][n - 1]), `${name} ${accept}`);
        for (const p of parts) assert.equal(p.contentType, 'application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1');
      }
    }
  });

  test('a single frame is one buffer with Content-Length; single part when asked', async () => {
    const { answer, parts } = await getParts(`${urls.native16}/frames/3`);
    assert.equal(Number(answer.headers['content-length']), answer.body.length);
    assert.ok(parts[0].body.equals(frames.native16[2]));
    const single = await get(`${urls.native16}/frames/3`, 'application/octet-stream');
    assert.equal(single.status, 200);
    assert.equal(single.headers['content-type'], 'application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1');
    assert.ok(single.body.equals(frames.native16[2]));
  });

  test('encapsulated frames: Basic Offset Table, Extended Offset Table, and codestream markers', async () => {
    for (const [name, ts] of [['j2kBot', J2K_LOSSLESS], ['jpegScan', JPEG_BASELINE], ['htEot', HTJ2K]] as const) {
      const count = frames[name].length;
      const order = Array.from({ length: count }, (_, i) => count - i);
      const { parts } = await getParts(`${urls[name]}/frames/${order.join(',')}`, STAR);
      assert.deepEqual(parts.map((p) => p.body), order.map((n) => frames[name][n - 1]), name);
      for (const p of parts) assert.equal(p.contentType, `application/octet-stream; transfer-syntax=${ts}`);
    }
  });

  test('compressed frames in their own media types (PS3.18 Table 8.7.3-5), aliases echoed', async () => {
    const cases = [
      ['j2kBot', 'multipart/related; type="image/jp2"', 'image/jp2', J2K_LOSSLESS],
      ['j2kBot', `multipart/related; type="image/jp2"; transfer-syntax=${J2K_LOSSLESS}`, 'image/jp2', J2K_LOSSLESS],
      ['jpegScan', 'multipart/related; type="image/jpeg"', 'image/jpeg', JPEG_BASELINE],
      ['htEot', 'multipart/related; type="image/jphc"', 'image/jphc', HTJ2K],
      ['htEot', 'multipart/related; type="image/jhc"', 'image/jhc', HTJ2K],
      ['j2kBot', 'multipart/related; type="image/*"', 'image/jp2', J2K_LOSSLESS],
    ] as const;
    for (const [name, accept, type, ts] of cases) {
      const { answer, parts } = await getParts(`${urls[name]}/frames/2,1`, accept);
      assert.match(String(answer.headers['content-type']), new RegExp(`^multipart/related; type="${type.replace('*', '\\*')}"`));
      assert.deepEqual(parts.map((p) => p.contentType), [`${type}; transfer-syntax=${ts}`, `${type}; transfer-syntax=${ts}`]);
      assert.deepEqual(parts.map((p) => p.body), [frames[name][1], frames[name][0]]);
    }
  });

  test('q-values and several Accept values are weighed', async () => {
    const accept = `multipart/related; type="image/jp2";q=0.5, multipart/related; type="application/octet-stream"; transfer-syntax=*;q=0.9, */*;q=0.1`;
    const { parts } = await getParts(`${urls.j2kBot}/frames/1`, accept);
    assert.equal(parts[0].contentType, `application/octet-stream; transfer-syntax=${J2K_LOSSLESS}`);
    const zero = await get(`${urls.j2kBot}/frames/1`, `multipart/related; type="image/jp2";q=0, ${STAR};q=0`);
    assert.equal(zero.status, 406);
  });

  test('406 with a reason when a frame cannot be converted as asked: a broken codestream, or a lossy encoding the gateway does not make', async () => {
    // The stand-in codestreams of these fixtures start like JPEG 2000 but decode to nothing.
    for (const accept of [undefined, 'multipart/related; type="application/octet-stream"; transfer-syntax=1.2.840.10008.1.2.1', 'multipart/related; type="image/jphc"']) {
      const res = await get(`${urls.j2kBot}/frames/1`, accept);
      assert.equal(res.status, 406, String(accept));
      assert.match(String(res.headers.warning), /cannot be converted from JPEG 2000.*transfer-syntax=1\.2\.840\.10008\.1\.2\.4\.90/);
    }
    const jpeg = await get(`${urls.j2kBot}/frames/1`, 'multipart/related; type="image/jpeg"');
    assert.equal(jpeg.status, 406);
    assert.match(String(jpeg.headers.warning), /never compresses lossily.*transfer-syntax=1\.2\.840\.10008\.1\.2\.4\.90/);
    // Only lossy pixels exist: the default gives them as stored (PS3.18 8.7.3).
    const lossy = await getParts(`${urls.jpegScan}/frames/1`);
    assert.equal(lossy.parts[0].contentType, `application/octet-stream; transfer-syntax=${JPEG_BASELINE}`);
  });

  test('instances: a broken JPEG 2000 codestream asked decoded is 406 before the answer starts, as stored with transfer-syntax=*', async () => {
    const res = await get(urls.j2kBot);
    assert.equal(res.status, 406);
    assert.match(JSON.parse(res.text()).message, /cannot be converted from JPEG 2000/);
    const { parts } = await getParts(urls.j2kBot, 'multipart/related; type="application/dicom"; transfer-syntax=*');
    assert.equal(parts[0].contentType, `application/dicom; transfer-syntax=${J2K_LOSSLESS}`);
    const implicit = await get(urls.native16, 'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2');
    assert.equal(implicit.status, 406, 'Implicit VR Little Endian is not used in web services (PS3.18 8.7.3)');
  });

  test('Pixel Data bulk data: frame by frame when encapsulated', async () => {
    const { parts } = await getParts(`${urls.j2kBot}/bulkdata/7FE00010`, STAR);
    assert.deepEqual(parts.map((p) => p.body), frames.j2kBot);
  });

  test('frame lists: zero, negative, not numbers: 400; past the last frame: 404; no pixel data: 404', async () => {
    for (const list of ['0', '-1', 'abc', '1,,2', '1.5', '1;2', '%20', '99999999999']) {
      const res = await get(`${urls.native16}/frames/${list}`);
      assert.equal(res.status, 400, list);
      assert.ok(res.headers.warning, list);
    }
    const past = await get(`${urls.native16}/frames/2,6`);
    assert.equal(past.status, 404);
    assert.match(JSON.parse(past.text()).message, /Frame 6 does not exist: .* has 5 frames/);
  });
});
