/**
 * Deflated Explicit VR Little Endian (PS3.5 A.5) read back from disk: the data set after the File
 * Meta Information is one raw deflate stream. Inflating it gives an Explicit VR Little Endian data
 * set byte for byte, so converting needs no re-encoding; and offsets recorded at ingest for such
 * files count inflated bytes (ParsedPart10.deflated), which inflatedRange() serves.
 */
import { Readable } from 'node:stream';
import { createInflateRaw } from 'node:zlib';
import { InvalidDicom } from './errors';

/** Inflates a raw deflate stream chunk by chunk, reading the input only as fast as it is consumed. */
export async function* inflateRaw(deflated: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const input = Readable.from(deflated, { objectMode: false });
  const inflater = createInflateRaw({ chunkSize: 256 * 1024 });
  input.on('error', (e) => inflater.destroy(e));
  input.pipe(inflater);
  try {
    for await (const chunk of inflater) yield chunk as Buffer;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('Z_')) throw new InvalidDicom('malformed', `stored deflated data set cannot be inflated: ${(e as Error).message}`);
    throw e;
  } finally {
    input.destroy();
    inflater.destroy();
  }
}

/** Bytes [offset, offset + length) of the inflated stream. */
export async function* inflatedRange(deflated: AsyncIterable<Buffer>, offset: number, length: number): AsyncGenerator<Buffer> {
  let position = 0;
  let left = length;
  if (left === 0) return;
  for await (const chunk of inflateRaw(deflated)) {
    const end = position + chunk.length;
    if (end > offset) {
      const from = Math.max(0, offset - position);
      const piece = chunk.subarray(from, Math.min(chunk.length, from + left));
      left -= piece.length;
      yield piece;
      if (left === 0) return;
    }
    position = end;
  }
  throw new InvalidDicom('truncated', `inflated data set ends before byte ${offset + length}`);
}
