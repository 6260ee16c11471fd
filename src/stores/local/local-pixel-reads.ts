/**
 * Reads frames and bulk values of one stored instance by offset (the positions come from its
 * layout): a native frame is one read; an encapsulated frame is one read of its fragments' span,
 * from which the 8-byte item headers between fragments are left out. For a deflated file the
 * positions count inflated bytes, so those reads inflate the data set up to the value.
 */
import { extractNativeFrame, nativeFrameSlice } from '../../dicom/frame-offsets';
import { inflatedRange } from '../../dicom/inflate-stream';
import { OpenedBytes, StoredFrame, StoredInstance } from '../wado-types';
import { StoredDataUnavailable } from '../store-errors';
import { PixelLayout } from './instance-layout';

export interface ReadContext {
  instance: StoredInstance;
  deflated: boolean;
}

/** Bytes [offset, offset + length) of the data set's byte space (inflated for deflated files). */
async function readValue(file: OpenedBytes, ctx: ReadContext, offset: number, length: number): Promise<Buffer> {
  if (!ctx.deflated) return file.read(offset, length);
  const chunks: Buffer[] = [];
  for await (const c of valueChunks(file, ctx, offset, length)) chunks.push(c);
  return Buffer.concat(chunks, length);
}

export function valueChunks(file: OpenedBytes, ctx: ReadContext, offset: number, length: number): AsyncIterable<Buffer> {
  if (!ctx.deflated) return file.stream(offset, length);
  const start = ctx.instance.datasetOffset;
  return inflatedRange(file.stream(start, file.size - start), offset, length);
}

/** Joins the fragments of one frame, read as one span (consecutive items of the same element). */
async function encapsulatedFrame(file: OpenedBytes, fragments: [number, number][]): Promise<Buffer> {
  const [firstOffset] = fragments[0];
  const [lastOffset, lastLength] = fragments[fragments.length - 1];
  const span = await file.read(firstOffset, lastOffset + lastLength - firstOffset);
  if (fragments.length === 1) return span;
  const total = fragments.reduce((n, [, l]) => n + l, 0);
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (const [offset, length] of fragments) {
    span.copy(out, at, offset - firstOffset, offset - firstOffset + length);
    at += length;
  }
  return out;
}

export async function* readFrames(ctx: ReadContext, pixel: PixelLayout, numbers: number[]): AsyncGenerator<StoredFrame> {
  const file = await ctx.instance.open();
  try {
    for (const number of numbers) {
      if (pixel.frames) {
        const fragments = pixel.frames[number - 1];
        if (!fragments) throw new StoredDataUnavailable(`frame ${number} is not in the stored layout`);
        yield { number, bytes: await encapsulatedFrame(file, fragments) };
        continue;
      }
      if (!pixel.native) throw new StoredDataUnavailable('the stored layout has no Pixel Data position');
      const [valueOffset, valueLength] = pixel.native;
      const slice = nativeFrameSlice(pixel.geometry, number);
      // The last byte of a bit-packed frame may be the padding at the end of the value.
      const length = Math.min(slice.byteLength, valueLength - slice.byteOffset);
      if (length <= 0) throw new StoredDataUnavailable(`frame ${number} lies past the end of the stored Pixel Data`);
      // Usually sent unchanged: a pooled buffer, released by the socket write (read-buffers.ts).
      const bytes =
        !ctx.deflated && file.readToSend
          ? await file.readToSend(valueOffset + slice.byteOffset, length)
          : await readValue(file, ctx, valueOffset + slice.byteOffset, length);
      yield { number, bytes: extractNativeFrame(bytes, slice) };
    }
  } finally {
    await file.close();
  }
}

/** A whole value, or the concatenation of fragments, streamed from its own file handle. */
export async function* readBulk(ctx: ReadContext, ranges: [number, number][]): AsyncGenerator<Buffer> {
  const file = await ctx.instance.open();
  try {
    for (const [offset, length] of ranges) yield* valueChunks(file, ctx, offset, length);
  } finally {
    await file.close();
  }
}
