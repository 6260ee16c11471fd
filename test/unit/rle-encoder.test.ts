/** The RLE Lossless encoder (PS3.5 Annex G) against the decoder, on every layout it meets. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRleFrame } from '../../src/dicom/rle-decoder';
import { encodeRleFrame } from '../../src/pixels/rle-encoder';
import { FrameFormat } from '../../src/pixels/frame-format';

function format(o: Partial<FrameFormat>): FrameFormat {
  return { rows: 7, columns: 9, samplesPerPixel: 1, bitsAllocated: 16, bitsStored: 16, pixelRepresentation: 0, planarConfiguration: 0, photometricInterpretation: 'MONOCHROME2', ...o };
}

/** Runs, literals, runs longer than 128 and alternations: what PackBits must split right. */
function pixels(bytes: number, seed: number): Buffer {
  const out = Buffer.alloc(bytes);
  let x = seed;
  for (let i = 0; i < bytes; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out[i] = i % 300 < 150 ? 0x42 : i % 7 === 0 ? 0 : x & 0xff;
  }
  return out;
}

describe('RLE encoder', () => {
  for (const f of [
    format({}),
    format({ bitsAllocated: 8, bitsStored: 8 }),
    format({ samplesPerPixel: 3, bitsAllocated: 8, bitsStored: 8, photometricInterpretation: 'RGB' }),
    format({ samplesPerPixel: 3, bitsAllocated: 8, bitsStored: 8, planarConfiguration: 1, photometricInterpretation: 'RGB' }),
    format({ samplesPerPixel: 3, bitsAllocated: 16, bitsStored: 16, photometricInterpretation: 'RGB' }),
    format({ bitsAllocated: 32, bitsStored: 32, rows: 300, columns: 301 }),
    format({ rows: 1, columns: 1 }),
    format({ rows: 3, columns: 400 }),
  ]) {
    test(`${f.rows}x${f.columns}, ${f.samplesPerPixel} sample(s) of ${f.bitsAllocated} bits, planar ${f.planarConfiguration}: decodes to the same bytes`, () => {
      const input = pixels(f.rows * f.columns * f.samplesPerPixel * (f.bitsAllocated / 8), f.rows * 31 + f.columns);
      const encoded = encodeRleFrame(input, f);
      assert.equal(encoded.readUInt32LE(0), f.samplesPerPixel * (f.bitsAllocated / 8), 'one segment per byte of each sample');
      for (let s = 0; s < encoded.readUInt32LE(0); s++) assert.equal(encoded.readUInt32LE(4 + 4 * s) % 2, 0, 'segments start at even offsets');
      assert.equal(encoded.length % 2, 0);
      assert.ok(decodeRleFrame(encoded, { ...f, numberOfFrames: 1 }).equals(input));
    });
  }

  test('a constant image compresses to a few bytes a row; more than 15 segments is refused', () => {
    const f = format({ rows: 64, columns: 64 });
    const encoded = encodeRleFrame(Buffer.alloc(64 * 64 * 2, 7), f);
    assert.ok(encoded.length < 64 + 2 * 64 * 4, `${encoded.length} bytes`);
    assert.throws(() => encodeRleFrame(Buffer.alloc(16), format({ rows: 1, columns: 1, samplesPerPixel: 4, bitsAllocated: 32 })), /at most 15 segments/);
  });
});
