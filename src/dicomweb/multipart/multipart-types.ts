/**
 * Public types of the streaming multipart/related reader (multipart-reader.ts):
 * the parts it yields, the error it throws, and its options.
 */
import { Readable } from 'node:stream';

export interface MultipartPart {
  /** 0-based position of the part in the message. */
  index: number;
  /** Part headers, names lower-cased; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** The raw Content-Type header value of the part, if any (see parseContentType). */
  contentType?: string;
  /** The part's bytes. Errors with MultipartError 'truncated' if the part is cut off; never ends early. */
  body: Readable;
}

export type MultipartErrorKind = 'no-start-boundary' | 'truncated' | 'header-too-large' | 'bad-header';

export class MultipartError extends Error {
  constructor(
    readonly kind: MultipartErrorKind,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'MultipartError';
  }
}

export interface ReadMultipartOptions {
  /** Limit for one part's header block, and for the transport padding of a delimiter line. Default 16 KiB. */
  maxHeaderBytes?: number;
  /** Bytes of preamble tolerated before giving up with 'no-start-boundary'. Default 64 KiB, so a non-multipart body fails fast. */
  maxPreambleBytes?: number;
  /** What to do with the rest of the source when the consumer stops early or the message is malformed. Default 'drain'. */
  onStop?: 'drain' | 'destroy';
}
