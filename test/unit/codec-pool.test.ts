/**
 * The codec worker pool with the real codecs: jobs run off the main thread in parallel, a broken
 * codestream fails its job alone (CorruptPixelData), a job that overruns its deadline loses its
 * worker and the next job gets a new one; and the decoded-frame cache shares one decode between
 * concurrent askers and stays within its bytes.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CodecPool, CorruptPixelData } from '../../src/pixels/codec-pool';
import { DecodedFrameCache } from '../../src/pixels/decoded-frame-cache';
import { FrameFormat } from '../../src/pixels/frame-format';

const MONO16: FrameFormat = { rows: 64, columns: 64, samplesPerPixel: 1, bitsAllocated: 16, bitsStored: 12, pixelRepresentation: 0, planarConfiguration: 0, photometricInterpretation: 'MONOCHROME2' };

function image(seed: number): Buffer {
  const out = Buffer.alloc(64 * 64 * 2);
  for (let i = 0; i < 64 * 64; i++) out.writeUInt16LE((i * seed + (i >> 6) * 17) & 0x0fff, i * 2);
  return out;
}

describe('codec pool', () => {
  test('HTJ2K, JPEG 2000 and RLE encode and decode back bit-exact, several jobs at once', async () => {
    const pool = new CodecPool({ size: 2 });
    try {
      const inputs = [1, 2, 3, 4, 5, 6].map(image);
      const results = await Promise.all(
        inputs.flatMap((pixels) =>
          (['openjph', 'openjpeg', 'rle'] as const).map(async (codec) => {
            const encoded = await pool.run({ op: 'encode', codec, format: MONO16, bytes: pixels });
            const decoded = await pool.run({ op: 'decode', codec, format: MONO16, bytes: encoded });
            return decoded.equals(pixels);
          }),
        ),
      );
      assert.ok(results.every(Boolean));
    } finally {
      await pool.close();
    }
  });

  test('a broken codestream fails with CorruptPixelData and the pool goes on', async () => {
    const pool = new CodecPool({ size: 1 });
    try {
      const garbage = Buffer.from([0xff, 0x4f, 0xff, 0x51, 1, 2, 3, 4, 5, 6, 7, 8]);
      for (const codec of ['openjpeg', 'openjph', 'charls', 'libjpeg-turbo', 'jpeg-lossless', 'rle'] as const) {
        await assert.rejects(pool.run({ op: 'decode', codec, format: MONO16, bytes: garbage }), CorruptPixelData, codec);
      }
      const pixels = image(9);
      const encoded = await pool.run({ op: 'encode', codec: 'openjph', format: MONO16, bytes: pixels });
      assert.ok((await pool.run({ op: 'decode', codec: 'openjph', format: MONO16, bytes: encoded })).equals(pixels));
    } finally {
      await pool.close();
    }
  });

  test('a codestream of another size than the data set says is refused, not written past', async () => {
    const pool = new CodecPool({ size: 1 });
    try {
      const encoded = await pool.run({ op: 'encode', codec: 'openjpeg', format: MONO16, bytes: image(3) });
      await assert.rejects(pool.run({ op: 'decode', codec: 'openjpeg', format: { ...MONO16, rows: 32 }, bytes: encoded }), /the codestream is 64x64/);
    } finally {
      await pool.close();
    }
  });

  test('a job past its deadline fails and its worker is replaced', async () => {
    const pool = new CodecPool({ size: 1, jobTimeoutMs: 1 });
    try {
      const big: FrameFormat = { ...MONO16, rows: 2048, columns: 2048 };
      await assert.rejects(pool.run({ op: 'encode', codec: 'openjpeg', format: big, bytes: Buffer.alloc(2048 * 2048 * 2, 1) }), /took longer than 1 ms/);
    } finally {
      await pool.close();
    }
    const next = new CodecPool({ size: 1 });
    try {
      const pixels = image(4);
      assert.ok((await next.run({ op: 'decode', codec: 'rle', format: MONO16, bytes: await next.run({ op: 'encode', codec: 'rle', format: MONO16, bytes: pixels }) })).equals(pixels));
    } finally {
      await next.close();
    }
  });

  test('the frame cache: concurrent askers share one decode, hits are counted, the bytes stay bounded', async () => {
    const cache = new DecodedFrameCache(10_000);
    let produced = 0;
    const produce = (n: number) => async () => {
      produced++;
      await new Promise((r) => setTimeout(r, 5));
      return Buffer.alloc(1000, n);
    };
    const [a, b] = await Promise.all([cache.get('x', produce(1)), cache.get('x', produce(1))]);
    assert.equal(produced, 1);
    assert.ok(a.equals(b));
    for (let i = 0; i < 30; i++) await cache.get(`k${i}`, produce(i));
    assert.ok(cache.size <= 10_000, `${cache.size} bytes held`);
    await cache.get('k29', produce(29));
    assert.equal(produced, 31, 'the most recent entry is still there');
    await cache.get('k0', produce(0));
    assert.equal(produced, 32, 'the oldest was evicted');
    assert.ok(cache.hits >= 2);
    assert.equal((await cache.get('huge', async () => Buffer.alloc(5000))).length, 5000);
    assert.ok(cache.size <= 10_000, 'an entry over an eighth of the cache is not kept');
  });
});
