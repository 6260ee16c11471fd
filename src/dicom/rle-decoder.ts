/**
 * RLE Lossless (PS3.5 Annex G) to native pixels: one frame at a time. A frame is a 64-byte header
 * (number of segments and their offsets) followed by PackBits-coded segments, one per byte of
 * each sample, most significant byte first (G.2). The output is native little endian, samples
 * interleaved or planar as the data set's Planar Configuration says, so that only the transfer
 * syntax changes and every other attribute stays true.
 */
import { InvalidDicom } from './errors';
import { PixelGeometry, frameBytes } from './pixel-geometry';

const HEADER_LENGTH = 64;

/** PackBits (G.3.1) of one segment into `out`, writing every `stride` bytes from `start`. */
function decodeSegment(src: Buffer, from: number, to: number, out: Buffer, start: number, stride: number, count: number): number {
  let written = 0;
  let p = start;
  let i = from;
  while (i < to && written < count) {
    const n = src[i++];
    if (n < 0x80) {
      // n + 1 literal bytes
      const end = Math.min(i + n + 1, to);
      for (; i < end && written < count; i++, written++, p += stride) out[p] = src[i];
      i = end;
    } else if (n > 0x80) {
      // byte repeated 257 - n times (-n + 1 as a signed byte)
      if (i >= to) break;
      const value = src[i++];
      for (let k = 257 - n; k > 0 && written < count; k--, written++, p += stride) out[p] = value;
    }
    // n == 0x80 (-128): no operation
  }
  return written;
}

export function decodeRleFrame(frame: Buffer, g: PixelGeometry): Buffer {
  if (g.bitsAllocated % 8 !== 0 || g.bitsAllocated === 0) {
    throw new InvalidDicom('malformed', `RLE Lossless with Bits Allocated ${g.bitsAllocated} cannot be decoded`);
  }
  if (frame.length < HEADER_LENGTH) throw new InvalidDicom('malformed', `RLE frame of ${frame.length} bytes has no 64-byte header`);
  const bytesPerSample = g.bitsAllocated / 8;
  const expected = g.samplesPerPixel * bytesPerSample;
  const segments = frame.readUInt32LE(0);
  if (segments !== expected) {
    throw new InvalidDicom('malformed', `RLE frame has ${segments} segments; ${g.samplesPerPixel} sample(s) of ${g.bitsAllocated} bits need ${expected}`);
  }
  const pixels = g.rows * g.columns;
  const out = Buffer.alloc(frameBytes(g));
  for (let s = 0; s < segments; s++) {
    const from = frame.readUInt32LE(4 + 4 * s);
    const to = s + 1 < segments ? frame.readUInt32LE(8 + 4 * s) : frame.length;
    if (from < HEADER_LENGTH || from > to || to > frame.length) {
      throw new InvalidDicom('malformed', `RLE segment ${s + 1} offsets ${from}..${to} do not fit the frame of ${frame.length} bytes`);
    }
    const sample = Math.floor(s / bytesPerSample);
    // Segments run from the most significant byte down; little endian puts that byte last.
    const byteInSample = bytesPerSample - 1 - (s % bytesPerSample);
    const interleaved = g.planarConfiguration !== 1 || g.samplesPerPixel === 1;
    const start = interleaved ? sample * bytesPerSample + byteInSample : sample * pixels * bytesPerSample + byteInSample;
    const stride = interleaved ? g.samplesPerPixel * bytesPerSample : bytesPerSample;
    const written = decodeSegment(frame, from, to, out, start, stride, pixels);
    if (written < pixels) {
      throw new InvalidDicom('malformed', `RLE segment ${s + 1} decodes to ${written} bytes, ${pixels} expected`);
    }
  }
  return out;
}
