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

const CR = 0x0d;
const LF = 0x0a;
const DASH = 0x2d;
const SPACE = 0x20;
const TAB = 0x09;
const EMPTY = Buffer.alloc(0);
const CR_BUFFER = Buffer.from([CR]);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const noop = (): void => undefined;

// ---------------------------------------------------------------------------
// Tokenizer: a synchronous state machine from bytes to tokens. It knows nothing
// about streams, which keeps the byte-level rules testable through the public API
// and the flow-control code below free of parsing.

type Token =
  | { kind: 'part'; headers: Record<string, string> }
  | { kind: 'body'; data: Buffer }
  | { kind: 'part-end' }
  | { kind: 'close' }
  | { kind: 'error'; error: MultipartError };

interface Limits {
  maxHeaderBytes: number;
  maxPreambleBytes: number;
}

/** Progress through the bytes that follow a "(CR)LF--boundary" match. */
type LinePhase = 'start' | 'dash' | 'padding' | 'cr';

class Tokenizer {
  private state: 'preamble' | 'delimiter-line' | 'headers' | 'body' | 'done' = 'preamble';
  /** "\n--boundary": searching for the LF form also finds the CRLF form. */
  private readonly needle: Buffer;
  /**
   * Undecided bytes at the end of the previous chunk (preamble/body states only):
   * they may be the start of a delimiter. At most needle.length bytes. Starts as a
   * virtual LF so that a boundary at offset 0 matches like any other.
   */
  private tail: Buffer = Buffer.from([LF]);
  private preambleBytes = 0;
  private lineInBody = false;
  private lineHadCR = false;
  private linePhase: LinePhase = 'start';
  private lineBytes: number[] = [];
  private headerBytes = 0;
  private headerLine: Buffer[] = [];
  private headers: Record<string, string> = {};

  constructor(
    boundary: string,
    private readonly limits: Limits,
    private readonly emit: (token: Token) => void,
  ) {
    // latin1: Node decodes HTTP headers as latin1, so this restores the wire bytes.
    this.needle = Buffer.from(`\n--${boundary}`, 'latin1');
  }

  get finished(): boolean {
    return this.state === 'done';
  }

  write(chunk: Buffer): void {
    if (chunk.length === 0 || this.finished) return;
    let data = chunk;
    let pos = 0;
    if (this.tail.length > 0) {
      const tail = this.tail;
      this.tail = EMPTY;
      if (chunk.length <= this.needle.length) {
        data = Buffer.concat([tail, chunk]); // small chunks: copying a few bytes is cheaper than cleverness
      } else {
        pos = this.resolveSeam(tail, chunk);
      }
    }
    while (pos < data.length && !this.finished) {
      switch (this.state) {
        case 'preamble':
        case 'body':
          pos = this.scan(data, pos);
          break;
        case 'delimiter-line':
          pos = this.delimiterLine(data, pos);
          break;
        case 'headers':
          pos = this.headerBlock(data, pos);
          break;
      }
    }
  }

  /** The source ended (cause undefined) or failed: decide what was complete. */
  finish(cause?: Error): void {
    const how = cause ? `failed (${cause.message})` : 'ended';
    const options = cause ? { cause } : undefined;
    switch (this.state) {
      case 'done':
        return;
      case 'preamble':
        this.fail(
          cause
            ? new MultipartError('truncated', `multipart source ${how} before the first boundary`, options)
            : new MultipartError('no-start-boundary', 'multipart body contains no boundary delimiter'),
        );
        return;
      case 'delimiter-line':
        // The delimiter itself was seen, so the part before it is complete.
        if (this.lineInBody) this.emit({ kind: 'part-end' });
        this.fail(new MultipartError('truncated', `multipart source ${how} without a close delimiter`, options));
        return;
      case 'headers':
        this.fail(new MultipartError('truncated', `multipart source ${how} inside a part header block`, options));
        return;
      case 'body':
        this.fail(new MultipartError('truncated', `multipart source ${how} inside a part body`, options));
        return;
    }
  }

  /**
   * Looks for a delimiter starting in `tail` (or at chunk[0], whose CR may be the
   * tail's last byte) without concatenating the whole chunk. Returns the chunk
   * offset at which to continue.
   */
  private resolveSeam(tail: Buffer, chunk: Buffer): number {
    const head = Buffer.concat([tail, chunk.subarray(0, this.needle.length)]);
    const i = head.indexOf(this.needle);
    if (i === -1 || i > tail.length) {
      this.scanned(tail);
      return 0; // any match further in is found by scan() on the chunk itself
    }
    const start = i > 0 && head[i - 1] === CR ? i - 1 : i;
    if (!this.scanned(head.subarray(0, start))) return chunk.length;
    this.enterDelimiterLine(start < i);
    return i + this.needle.length - tail.length;
  }

  private scan(data: Buffer, pos: number): number {
    const i = data.indexOf(this.needle, pos);
    if (i === -1) {
      // Keep the last needle.length bytes: a partial match plus the CR before it.
      const keepFrom = Math.max(pos, data.length - this.needle.length);
      if (this.scanned(data.subarray(pos, keepFrom))) {
        this.tail = Buffer.from(data.subarray(keepFrom)); // copied so a few bytes do not pin a whole chunk
      }
      return data.length;
    }
    // The CR only belongs to the delimiter if it is inside this body (i > pos).
    const start = i > pos && data[i - 1] === CR ? i - 1 : i;
    if (!this.scanned(data.subarray(pos, start))) return data.length;
    this.enterDelimiterLine(start < i);
    return i + this.needle.length;
  }

  /** Hands on bytes known not to be part of a delimiter. Returns false if that failed the message. */
  private scanned(bytes: Buffer): boolean {
    if (bytes.length === 0) return true;
    if (this.state === 'body') {
      this.emit({ kind: 'body', data: bytes });
      return true;
    }
    this.preambleBytes += bytes.length;
    if (this.preambleBytes > this.limits.maxPreambleBytes) {
      this.fail(
        new MultipartError('no-start-boundary', `no boundary delimiter in the first ${this.limits.maxPreambleBytes} bytes`),
      );
      return false;
    }
    return true;
  }

  private enterDelimiterLine(hadCR: boolean): void {
    this.lineInBody = this.state === 'body';
    this.lineHadCR = hadCR;
    this.linePhase = 'start';
    this.lineBytes = [];
    this.state = 'delimiter-line';
  }

  /** After "--boundary": "--" closes, padding + (CR)LF opens a part, anything else was body. */
  private delimiterLine(data: Buffer, pos: number): number {
    for (; pos < data.length; pos++) {
      const b = data[pos];
      const phase = this.linePhase;
      if (phase === 'dash') {
        if (b === DASH) return this.closeDelimiter(data);
        return this.notADelimiter(pos);
      }
      if (phase === 'cr') {
        if (b === LF) return this.partDelimiter(pos);
        return this.notADelimiter(pos);
      }
      if (b === LF) return this.partDelimiter(pos);
      if (b === CR) this.linePhase = 'cr';
      else if (b === SPACE || b === TAB) this.linePhase = 'padding';
      else if (b === DASH && phase === 'start') this.linePhase = 'dash';
      else return this.notADelimiter(pos);

      this.lineBytes.push(b);
      if (this.lineBytes.length > this.limits.maxHeaderBytes) {
        this.fail(new MultipartError('header-too-large', 'transport padding after a boundary is too long'));
        return data.length;
      }
    }
    return pos;
  }

  private closeDelimiter(data: Buffer): number {
    if (this.lineInBody) this.emit({ kind: 'part-end' });
    this.emit({ kind: 'close' });
    this.state = 'done'; // the epilogue is ignored
    return data.length;
  }

  private partDelimiter(pos: number): number {
    if (this.lineInBody) this.emit({ kind: 'part-end' });
    this.state = 'headers';
    this.headerBytes = 0;
    this.headerLine = [];
    this.headers = {};
    return pos + 1;
  }

  /**
   * The match was boundary-like text inside the body (or preamble). Its bytes are
   * rebuilt from what was matched, and scanning resumes at `pos`, which is never
   * an LF, so no delimiter can start within the rebuilt bytes or right at `pos`.
   */
  private notADelimiter(pos: number): number {
    if (this.lineInBody) {
      this.state = 'body';
      this.emit({
        kind: 'body',
        data: Buffer.concat([this.lineHadCR ? CR_BUFFER : EMPTY, this.needle, Buffer.from(this.lineBytes)]),
      });
    } else {
      this.state = 'preamble';
    }
    return pos;
  }

  private headerBlock(data: Buffer, pos: number): number {
    const lf = data.indexOf(LF, pos);
    const end = lf === -1 ? data.length : lf + 1;
    this.headerBytes += end - pos;
    if (this.headerBytes > this.limits.maxHeaderBytes) {
      this.fail(new MultipartError('header-too-large', `part header block exceeds ${this.limits.maxHeaderBytes} bytes`));
      return data.length;
    }
    if (lf === -1) {
      this.headerLine.push(Buffer.from(data.subarray(pos))); // copy: small, and must outlive the chunk
      return end;
    }
    const piece = data.subarray(pos, lf);
    const raw = this.headerLine.length === 0 ? piece : Buffer.concat([...this.headerLine, piece]);
    this.headerLine = [];
    const lineEnd = raw.length > 0 && raw[raw.length - 1] === CR ? raw.length - 1 : raw.length;
    if (lineEnd === 0) {
      this.emit({ kind: 'part', headers: this.headers });
      this.state = 'body';
      return end;
    }
    const line = raw.toString('latin1', 0, lineEnd);
    const colon = line.indexOf(':');
    const name = colon === -1 ? '' : line.slice(0, colon).trim().toLowerCase();
    if (!HEADER_NAME.test(name)) {
      this.fail(new MultipartError('bad-header', `malformed part header line: ${JSON.stringify(line.slice(0, 80))}`));
      return data.length;
    }
    addHeader(this.headers, name, line.slice(colon + 1).trim());
    return end;
  }

  private fail(error: MultipartError): void {
    this.state = 'done';
    this.tail = EMPTY;
    this.emit({ kind: 'error', error });
  }
}

/** Own property even for `__proto__`; a repeated header is joined with ", " (RFC 9110 5.3). */
function addHeader(headers: Record<string, string>, name: string, value: string): void {
  const joined = Object.prototype.hasOwnProperty.call(headers, name) ? `${headers[name]}, ${value}` : value;
  Object.defineProperty(headers, name, { value: joined, enumerable: true, writable: true, configurable: true });
}

// ---------------------------------------------------------------------------
// Source side: pulls one chunk at a time from a paused Readable.

type Pulled = { chunk: Buffer } | { end: true; error?: Error };

/**
 * Uses 'data' events with pause() after each chunk rather than read(): read()
 * without a size concatenates everything buffered (a copy), 'data' hands over
 * the chunks as they came.
 */
class SourcePuller {
  private readonly chunks: Buffer[] = [];
  private ended = false;
  private error: Error | undefined;
  private wake: (() => void) | undefined;
  private released = false;

  constructor(private readonly source: Readable) {
    if (source.readableEnded) this.ended = true;
    else if (source.errored) this.error = source.errored;
    else if (source.destroyed) this.error = new Error('multipart source was destroyed');
    source.pause();
    source.on('data', this.onData);
    source.on('end', this.onEnd);
    source.on('error', this.onError);
    source.on('close', this.onClose);
  }

  /** undefined once released. */
  async next(): Promise<Pulled | undefined> {
    for (;;) {
      if (this.released) return undefined;
      const chunk = this.chunks.shift();
      if (chunk !== undefined) return { chunk };
      if (this.error) return { end: true, error: this.error };
      if (this.ended) return { end: true };
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.source.resume();
      });
    }
  }

  release(mode: 'drain' | 'destroy'): void {
    if (this.released) return;
    this.released = true;
    const source = this.source;
    source.off('data', this.onData);
    source.off('end', this.onEnd);
    source.off('error', this.onError);
    source.off('close', this.onClose);
    this.chunks.length = 0;
    this.notify();
    if (source.destroyed || source.readableEnded) return;
    source.on('error', noop); // a late socket error must not become an uncaught exception
    if (mode === 'destroy') source.destroy();
    else source.resume(); // no 'data' listener left: the rest is read and discarded
  }

  private readonly onData = (chunk: unknown): void => {
    this.chunks.push(toBuffer(chunk));
    this.source.pause();
    this.notify();
  };

  private readonly onEnd = (): void => {
    this.ended = true;
    this.notify();
  };

  private readonly onError = (error: Error): void => {
    this.error ??= error;
    this.notify();
  };

  private readonly onClose = (): void => {
    if (!this.ended && !this.error) this.error = new Error('multipart source closed before its end');
    this.notify();
  };

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  return Buffer.from(String(chunk), 'latin1'); // a source with setEncoding() is a caller bug; keep going byte-wise
}

/** Tokens in order, pulling a new source chunk only when the previous one is used up. */
class TokenStream {
  private queue: Token[] = [];
  private head = 0;
  private readonly tokenizer: Tokenizer;

  constructor(
    private readonly puller: SourcePuller,
    boundary: string,
    limits: Limits,
  ) {
    this.tokenizer = new Tokenizer(boundary, limits, (token) => this.queue.push(token));
  }

  /** undefined after the last token, or once the source was released. */
  async next(): Promise<Token | undefined> {
    while (this.head === this.queue.length) {
      if (this.tokenizer.finished) return undefined;
      this.queue = [];
      this.head = 0;
      const pulled = await this.puller.next();
      if (pulled === undefined) return undefined;
      if ('chunk' in pulled) this.tokenizer.write(pulled.chunk);
      else this.tokenizer.finish(pulled.error);
    }
    return this.queue[this.head++];
  }
}

// ---------------------------------------------------------------------------
// Part side: one body Readable, fed only when its consumer wants data.

class PartController {
  readonly part: MultipartPart;
  private readonly body: Readable;
  private settled = false;
  private failure: MultipartError | undefined;
  private wantData = false;
  private pumping = false;
  private discarding = false;
  private movingOn = false;
  private stopped = false;
  private readonly done: Promise<void>;
  private markDone: () => void = noop;

  constructor(
    private readonly tokens: TokenStream,
    index: number,
    headers: Record<string, string>,
  ) {
    this.done = new Promise<void>((resolve) => {
      this.markDone = resolve;
    });
    this.body = new Readable({
      read: () => {
        this.wantData = true;
        void this.pump();
      },
      destroy: (error, callback) => {
        this.onBodyDestroyed();
        callback(error);
      },
    });
    // The generator reports the same error, so a consumer that attached no
    // 'error' listener to an ignored body must not crash the process.
    this.body.on('error', noop);
    this.part = { index, headers, contentType: headers['content-type'], body: this.body };
  }

  /** Waits for the part to be fully read (skipping what the consumer left); throws its error. */
  async finish(): Promise<void> {
    this.movingOn = true;
    if (!this.settled) {
      if (this.body.destroyed) this.startDiscarding();
      else this.body.resume(); // without 'data' listeners the rest is dropped; a pipe keeps its backpressure
      await this.done;
    }
    if (this.failure) throw this.failure;
  }

  /** The consumer stopped the generator: end the body now, without an 'end' event. */
  abort(): void {
    this.stopped = true;
    if (this.settled) return;
    this.settle();
    this.body.destroy();
  }

  private async pump(): Promise<void> {
    if (this.pumping) return; // the running loop sees the updated flags
    this.pumping = true;
    try {
      while (!this.settled && !this.stopped && (this.discarding || (this.wantData && !this.body.destroyed))) {
        const token = await this.tokens.next();
        if (token === undefined || this.stopped) return;
        this.apply(token);
      }
    } finally {
      this.pumping = false;
    }
  }

  private apply(token: Token): void {
    switch (token.kind) {
      case 'body':
        if (!this.body.destroyed) this.wantData = this.body.push(token.data);
        return;
      case 'part-end':
        this.settle();
        if (!this.body.destroyed) this.body.push(null);
        return;
      case 'error':
        this.failure = token.error;
        this.settle();
        this.body.destroy(token.error);
        return;
      default:
        throw new Error(`multipart reader: unexpected '${token.kind}' token inside a part`);
    }
  }

  private onBodyDestroyed(): void {
    if (this.movingOn && !this.settled && !this.stopped) this.startDiscarding();
  }

  private startDiscarding(): void {
    this.discarding = true;
    void this.pump();
  }

  private settle(): void {
    this.settled = true;
    this.markDone();
  }
}

// ---------------------------------------------------------------------------

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
