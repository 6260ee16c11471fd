/**
 * Bytes that can be read at any offset: a stored instance file, seen by the transcoder and the
 * frame and bulk data readers. Keeps dicom/ free of file handles: the store provides this.
 */
export interface RandomAccessBytes {
  /** Total number of bytes. */
  readonly size: number;
  /** The bytes [offset, offset + length) in chunks, in order. Rejects when fewer bytes exist. */
  stream(offset: number, length: number): AsyncIterable<Buffer>;
  /** The bytes [offset, offset + length) in one buffer. Rejects when fewer bytes exist. */
  read(offset: number, length: number): Promise<Buffer>;
}

/** A RandomAccessBytes over a buffer (tests, small values). */
export function bufferBytes(buffer: Buffer): RandomAccessBytes {
  const check = (offset: number, length: number) => {
    if (offset < 0 || length < 0 || offset + length > buffer.length) {
      throw new RangeError(`bytes ${offset}..${offset + length} are past the end (${buffer.length})`);
    }
  };
  return {
    size: buffer.length,
    async *stream(offset, length) {
      check(offset, length);
      if (length > 0) yield buffer.subarray(offset, offset + length);
    },
    async read(offset, length) {
      check(offset, length);
      return buffer.subarray(offset, offset + length);
    },
  };
}
