/**
 * Native pixels to one RLE Lossless frame (PS3.5 Annex G): one segment per byte of each sample,
 * most significant byte first (G.2), each coded with PackBits (G.3.1) row by row, a run never
 * crossing a row, and every segment padded to an even length. No npm package writes DICOM RLE,
 * and the format is a page of the standard, so it is ours (as is the decoder in dicom/).
 */
import { FrameFormat } from './frame-format';

const HEADER_LENGTH = 64;
const MAX_SEGMENTS = 15;

/** PackBits of `count` bytes read every `stride` bytes from `start`, appended to `out`. */
function packRow(src: Buffer, start: number, stride: number, count: number, out: number[]): void {
  let i = 0;
  const at = (k: number) => src[start + k * stride];
  while (i < count) {
    // A run of at least 2 equal bytes is a replicate run (up to 128).
    let run = 1;
    while (i + run < count && run < 128 && at(i + run) === at(i)) run++;
    if (run >= 2) {
      out.push(257 - run, at(i));
      i += run;
      continue;
    }
    // Otherwise literals up to 128, stopping before the next run of 2 or more.
    let literal = 1;
    while (i + literal < count && literal < 128 && !(i + literal + 1 < count && at(i + literal) === at(i + literal + 1))) literal++;
    out.push(literal - 1);
    for (let k = 0; k < literal; k++) out.push(at(i + k));
    i += literal;
  }
}

export function encodeRleFrame(pixels: Buffer, format: FrameFormat): Buffer {
  const bytesPerSample = format.bitsAllocated / 8;
  if (!Number.isInteger(bytesPerSample) || bytesPerSample < 1) throw new Error(`RLE needs whole bytes per sample, not ${format.bitsAllocated} bits`);
  const segments = format.samplesPerPixel * bytesPerSample;
  if (segments > MAX_SEGMENTS) throw new Error(`RLE holds at most ${MAX_SEGMENTS} segments; ${format.samplesPerPixel} samples of ${format.bitsAllocated} bits need ${segments}`);
  const pixelsPerFrame = format.rows * format.columns;
  const planar = format.planarConfiguration === 1 && format.samplesPerPixel > 1;
  const coded: Buffer[] = [];
  for (let s = 0; s < segments; s++) {
    const sample = Math.floor(s / bytesPerSample);
    const byteInSample = bytesPerSample - 1 - (s % bytesPerSample); // little endian: MSB last
    const base = planar ? sample * pixelsPerFrame * bytesPerSample + byteInSample : sample * bytesPerSample + byteInSample;
    const stride = planar ? bytesPerSample : format.samplesPerPixel * bytesPerSample;
    const out: number[] = [];
    for (let row = 0; row < format.rows; row++) packRow(pixels, base + row * format.columns * stride, stride, format.columns, out);
    if (out.length % 2 === 1) out.push(0); // segments are padded to an even length with a zero (G.5)
    coded.push(Buffer.from(out));
  }
  const header = Buffer.alloc(HEADER_LENGTH);
  header.writeUInt32LE(segments, 0);
  let offset = HEADER_LENGTH;
  coded.forEach((segment, i) => {
    header.writeUInt32LE(offset, 4 + 4 * i);
    offset += segment.length;
  });
  return Buffer.concat([header, ...coded]);
}
