/**
 * What a codec needs to know of a frame besides its bytes (PS3.3 C.7.6.3): sent with every job to
 * the codec workers, so it is a plain, cloneable object.
 */
export interface FrameFormat {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  bitsStored: number;
  /** 0 unsigned, 1 two's complement. */
  pixelRepresentation: number;
  /** Of native input (encoding) or of the stored data set (decoding RLE). Decoded output of the
   *  other codecs is always interleaved (0). */
  planarConfiguration: number;
  photometricInterpretation: string;
}

/** Bytes of one native frame of this format (Bits Allocated 1 is not compressed by any codec). */
export function nativeFrameBytes(f: FrameFormat): number {
  return Math.ceil((f.rows * f.columns * f.samplesPerPixel * f.bitsAllocated) / 8);
}
