/**
 * RLE Lossless decoding (PS3.5 Annex G) of one frame into native little endian pixel bytes, so the
 * fake can serve RLE-stored instances and frames as Explicit VR Little Endian, as a cloud archive
 * that transcodes would. A frame is a 64-byte header (segment count, 15 offsets) and one PackBits
 * segment per byte plane: for each sample, its most significant byte first (G.2).
 */
export interface RleFrameGeometry {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  /** 0: R1G1B1R2G2B2... (pixel interleaved), 1: RRR...GGG...BBB (PS3.3 C.7.6.3.1.3). */
  planarConfiguration: number;
}

export function decodeRleFrame(frame: Buffer, geometry: RleFrameGeometry): Buffer {
  const { rows, columns, samplesPerPixel, bitsAllocated, planarConfiguration } = geometry;
  if (frame.length < 64) throw new Error(`RLE frame of ${frame.length} bytes has no 64-byte header`);
  const bytesPerSample = Math.ceil(bitsAllocated / 8);
  const pixels = rows * columns;
  const segmentCount = frame.readUInt32LE(0);
  const expected = samplesPerPixel * bytesPerSample;
  if (segmentCount !== expected || segmentCount > 15) throw new Error(`RLE frame has ${segmentCount} segments, ${expected} expected`);
  const offsets: number[] = [];
  for (let i = 0; i < segmentCount; i++) offsets.push(frame.readUInt32LE(4 + 4 * i));
  offsets.push(frame.length);

  const out = Buffer.alloc(pixels * expected);
  for (let segment = 0; segment < segmentCount; segment++) {
    const plane = unpackBits(frame.subarray(offsets[segment], offsets[segment + 1]), pixels);
    const sample = Math.floor(segment / bytesPerSample);
    const byteInSample = bytesPerSample - 1 - (segment % bytesPerSample); // little endian: MSB last
    for (let p = 0; p < pixels; p++) {
      const sampleIndex = planarConfiguration === 1 ? sample * pixels + p : p * samplesPerPixel + sample;
      out[sampleIndex * bytesPerSample + byteInSample] = plane[p];
    }
  }
  return out;
}

/** One PackBits segment (G.3.1): n >= 0 copies n+1 bytes, -127..-1 repeats the next byte 1-n times. */
function unpackBits(segment: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  let i = 0;
  let o = 0;
  while (i < segment.length && o < length) {
    const n = segment.readInt8(i++);
    if (n >= 0) {
      const count = Math.min(n + 1, length - o, segment.length - i);
      segment.copy(out, o, i, i + count);
      i += n + 1;
      o += count;
    } else if (n !== -128) {
      const count = Math.min(1 - n, length - o);
      out.fill(segment[i++], o, o + count);
      o += count;
    }
  }
  if (o < length) throw new Error(`RLE segment decodes to ${o} bytes, ${length} expected`);
  return out;
}
