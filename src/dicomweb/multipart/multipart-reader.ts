/**
 * Streaming multipart/related reader (RFC 2046 section 5.1, RFC 2387) for STOW-RS
 * (PS3.18 10.5) uploads that may carry gigabytes.
 *
 * Shape: an async generator of parts whose bodies are Readables. Bytes flow
 * source -> tokenizer -> part body only when the body's consumer asks for more,
 * so a slow consumer (a file write stream) pauses the socket. The reader keeps
 * one source chunk plus a tail of at most `delimiter length` bytes; body bytes
 * are handed on as slices of the source chunks, without copying.
 *
 * Choices where RFC 2046 leaves room or real clients misbehave:
 * - The delimiter is (CR)LF "--" boundary: a bare LF is accepted where CRLF is
 *   expected, and the (CR)LF belongs to the delimiter, never to the body.
 * - The first boundary may start the stream with no (CR)LF before it.
 * - "--boundary" followed by anything other than "--", transport padding
 *   (spaces/tabs) and a line end is not a delimiter; those bytes stay in the body.
 * - A part ends normally once its delimiter has been seen. If the source then
 *   ends without the close delimiter, the generator throws 'truncated' after
 *   the complete parts.
 * - Asking the generator for the next part while the current body is unread
 *   skips the rest of that body (body.resume(), or discarding if the body was
 *   destroyed): a consumer that ignores a part cannot stall the upload.
 * - Stopping early (generator return(), or a throw) destroys an unfinished body
 *   and, by default, drains the source (`onStop: 'drain'`) so that an HTTP
 *   request can still get an answer; `onStop: 'destroy'` destroys the source.
 *   After the close delimiter, the epilogue is always drained.
 *
 * The work is split by job: multipart-tokenizer.ts (bytes to tokens, with
 * multipart-header-block.ts for part headers), multipart-source.ts (pulling the
 * source and backpressure), multipart-part-body.ts (each part's body stream);
 * this file ties them together. The public types live in multipart-types.ts and
 * are re-exported here.
 */
import { Readable } from 'node:stream';
import { PartController } from './multipart-part-body';
import { SourcePuller, TokenStream } from './multipart-source';
import { Limits } from './multipart-tokenizer';
import { MultipartPart, ReadMultipartOptions } from './multipart-types';

export { MultipartError } from './multipart-types';
export type { MultipartErrorKind, MultipartPart, ReadMultipartOptions } from './multipart-types';

/**
 * Reads a multipart body part by part. `boundary` is the Content-Type
 * `boundary` parameter (see parseContentType). Throws a TypeError at once for
 * an empty boundary or one containing CR/LF; all message errors come out of the
 * generator (and the affected body) as MultipartError.
 */
export function readMultipart(
  source: Readable,
  boundary: string,
  options: ReadMultipartOptions = {},
): AsyncGenerator<MultipartPart> {
  if (boundary.length === 0 || boundary.length > 256 || /[\r\n]/.test(boundary)) {
    throw new TypeError('invalid multipart boundary');
  }
  const limits: Limits = {
    maxHeaderBytes: options.maxHeaderBytes ?? 16 * 1024,
    maxPreambleBytes: options.maxPreambleBytes ?? 64 * 1024,
  };
  return iterateParts(source, boundary, limits, options.onStop ?? 'drain');
}

async function* iterateParts(
  source: Readable,
  boundary: string,
  limits: Limits,
  onStop: 'drain' | 'destroy',
): AsyncGenerator<MultipartPart> {
  const puller = new SourcePuller(source);
  const tokens = new TokenStream(puller, boundary, limits);
  let current: PartController | undefined;
  let closed = false;
  try {
    for (let index = 0; ; index++) {
      const token = await tokens.next();
      if (token === undefined) throw new Error('multipart reader: source released while reading');
      if (token.kind === 'close') {
        closed = true;
        return;
      }
      if (token.kind === 'error') throw token.error;
      if (token.kind !== 'part') throw new Error(`multipart reader: unexpected '${token.kind}' token between parts`);
      current = new PartController(tokens, index, token.headers);
      yield current.part;
      await current.finish();
      current = undefined;
    }
  } finally {
    current?.abort();
    puller.release(closed ? 'drain' : onStop);
  }
}
