/**
 * Byte order conversion of values read from Explicit VR Big Endian (PS3.5 A.3, retired) into the
 * little endian every answer of the gateway uses. Which bytes swap depends on the VR (PS3.5 7.3):
 * each numeric word is reversed, strings and byte streams (OB, UN) are left alone.
 */

/** Size of the words of a VR whose bytes must be reversed; 1 when nothing swaps. AT is a pair of
 *  16-bit numbers (group, element), so it swaps as 2-byte words. */
export function swapWordSize(vr: string): number {
  switch (vr) {
    case 'US':
    case 'SS':
    case 'OW':
    case 'AT':
      return 2;
    case 'UL':
    case 'SL':
    case 'FL':
    case 'OF':
    case 'OL':
      return 4;
    case 'FD':
    case 'OD':
    case 'SV':
    case 'UV':
    case 'OV':
      return 8;
    default:
      return 1;
  }
}

/** Reverses every whole word of `buffer` in place; a trailing partial word (malformed) stays. */
export function swapInPlace(buffer: Buffer, wordSize: number): Buffer {
  if (wordSize <= 1) return buffer;
  const whole = buffer.subarray(0, buffer.length - (buffer.length % wordSize));
  if (wordSize === 2) whole.swap16();
  else if (wordSize === 4) whole.swap32();
  else whole.swap64();
  return buffer;
}

/** A swapped copy (the input may be shared, e.g. a value of a parsed data set). */
export function swapped(buffer: Buffer, wordSize: number): Buffer {
  return wordSize <= 1 ? buffer : swapInPlace(Buffer.from(buffer), wordSize);
}

/**
 * Swaps a stream of chunks whose boundaries may fall inside a word: the bytes of a split word are
 * carried over to the next chunk. Chunks are copied before swapping (they may be cached views).
 */
export async function* swapChunks(chunks: AsyncIterable<Buffer>, wordSize: number): AsyncGenerator<Buffer> {
  if (wordSize <= 1) {
    yield* chunks;
    return;
  }
  let carry: Buffer = Buffer.alloc(0);
  for await (const chunk of chunks) {
    const joined = carry.length > 0 ? Buffer.concat([carry, chunk]) : Buffer.from(chunk);
    const whole = joined.length - (joined.length % wordSize);
    carry = Buffer.from(joined.subarray(whole));
    if (whole > 0) yield swapInPlace(joined.subarray(0, whole), wordSize);
  }
  if (carry.length > 0) yield carry; // a malformed odd tail goes out as it came
}
