/** Frame positions (PS3.5 8.1.1, A.4): native arithmetic, and encapsulated frames from the
 *  offset tables, one fragment per frame, or codestream markers. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { extractNativeFrame, FramesNotLocatable, locateEncapsulatedFrames, nativeFrameSlice } from '../../src/dicom/frame-offsets';

const geometry = (rows: number, columns: number, samplesPerPixel: number, bitsAllocated: number, numberOfFrames: number) => ({
  rows, columns, samplesPerPixel, bitsAllocated, numberOfFrames, planarConfiguration: 0,
});

/** Fragments laid out as in a file: each value after an 8-byte item header, from `start`. */
function layout(lengths: number[], start = 1000) {
  let at = start;
  return lengths.map((length) => {
    const f = { offset: at + 8, length };
    at += 8 + length;
    return f;
  });
}

describe('native frames', () => {
  test('16-bit and RGB frames by arithmetic', () => {
    assert.deepEqual(nativeFrameSlice(geometry(512, 512, 1, 16, 10), 3), { byteOffset: 2 * 524288, byteLength: 524288, bitShift: 0, bitLength: 524288 * 8 });
    assert.deepEqual(nativeFrameSlice(geometry(5, 7, 3, 8, 3), 2), { byteOffset: 105, byteLength: 105, bitShift: 0, bitLength: 840 });
  });

  test('1-bit frames that start inside a byte are shifted to bit 0, spare bits cleared', () => {
    const g = geometry(5, 5, 1, 1, 3); // 25 bits a frame
    const value = Buffer.from([0xff, 0x00, 0xaa, 0x55, 0xf0, 0x0f, 0x33, 0xcc, 0x99, 0x66]);
    const bit = (k: number) => (value[k >> 3] >> (k & 7)) & 1;
    for (const frame of [1, 2, 3]) {
      const slice = nativeFrameSlice(g, frame);
      assert.equal(slice.bitShift, ((frame - 1) * 25) % 8);
      const out = extractNativeFrame(value.subarray(slice.byteOffset, slice.byteOffset + slice.byteLength), slice);
      assert.equal(out.length, 4);
      for (let i = 0; i < 32; i++) assert.equal((out[i >> 3] >> (i & 7)) & 1, i < 25 ? bit((frame - 1) * 25 + i) : 0, `frame ${frame} bit ${i}`);
    }
  });
});

describe('encapsulated frames', () => {
  const noRead = async (): Promise<Buffer> => assert.fail('fragment starts should not be read');
  const base = { basicOffsetTable: [] as number[], transferSyntaxUid: '1.2.840.10008.1.2.4.50', readFragmentStart: noRead };

  test('one frame: all fragments', async () => {
    const r = await locateEncapsulatedFrames({ ...base, fragments: layout([10, 20, 30]), numberOfFrames: 1 });
    assert.deepEqual(r, { frames: [[0, 1, 2]], method: 'single-frame' });
  });

  test('Basic Offset Table: offsets of the first fragment item of each frame', async () => {
    const fragments = layout([10, 20, 30, 40, 50]);
    const r = await locateEncapsulatedFrames({ ...base, fragments, basicOffsetTable: [0, 18 + 28, 18 + 28 + 38 + 48], numberOfFrames: 3 });
    assert.deepEqual(r, { frames: [[0, 1], [2, 3], [4]], method: 'basic-offset-table' });
  });

  test('Extended Offset Table wins over a (wrong) Basic one', async () => {
    const fragments = layout([10, 20, 30]);
    const r = await locateEncapsulatedFrames({ ...base, fragments, basicOffsetTable: [0, 5, 7], extendedOffsetTable: [0, 18, 46], extendedOffsetTableLengths: [10, 20, 30], numberOfFrames: 3 });
    assert.deepEqual(r, { frames: [[0], [1], [2]], method: 'extended-offset-table' });
  });

  test('no table, as many fragments as frames: one each', async () => {
    const r = await locateEncapsulatedFrames({ ...base, fragments: layout([10, 20, 30]), numberOfFrames: 3 });
    assert.deepEqual(r, { frames: [[0], [1], [2]], method: 'fragment-per-frame' });
  });

  test('no usable table and fragmented frames: JPEG SOI and JPEG 2000 SOC+SIZ markers', async () => {
    const heads = [[0xff, 0xd8], [0x12, 0x34], [0x00, 0x00], [0xff, 0xd8], [0xff, 0xd8], [0x55, 0x66]].map((h) => Buffer.from([...h, 0, 0, 0, 0, 0, 0]));
    const r = await locateEncapsulatedFrames({ ...base, fragments: layout([10, 10, 10, 10, 10, 10]), basicOffsetTable: [0, 999, 1234], numberOfFrames: 3, readFragmentStart: async (i) => heads[i] });
    assert.deepEqual(r, { frames: [[0, 1, 2], [3], [4, 5]], method: 'codestream-markers' });
    const j2k = [Buffer.from([0xff, 0x4f, 0xff, 0x51]), Buffer.from([0xff, 0x4f, 0x00, 0x00]), Buffer.from([0xff, 0x4f, 0xff, 0x51])];
    const r2 = await locateEncapsulatedFrames({ ...base, transferSyntaxUid: '1.2.840.10008.1.2.4.90', fragments: layout([4, 4, 4]), numberOfFrames: 2, readFragmentStart: async (i) => j2k[i] });
    assert.deepEqual(r2.frames, [[0, 1], [2]]);
  });

  test('what cannot be located says why', async () => {
    await assert.rejects(locateEncapsulatedFrames({ ...base, fragments: layout([10]), numberOfFrames: 2 }), FramesNotLocatable);
    const rle = { ...base, transferSyntaxUid: '1.2.840.10008.1.2.5', fragments: layout([10, 10, 10]), numberOfFrames: 2, readFragmentStart: async () => Buffer.alloc(8) };
    await assert.rejects(locateEncapsulatedFrames(rle), /no codestream marker/);
    const miscounted = { ...base, fragments: layout([10, 10, 10]), numberOfFrames: 2, readFragmentStart: async () => Buffer.from([0xff, 0xd8]) };
    await assert.rejects(locateEncapsulatedFrames(miscounted), /3 codestream start\(s\)/);
  });
});
