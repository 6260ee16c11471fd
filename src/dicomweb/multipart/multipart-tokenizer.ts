/**
 * Multipart tokenizer: a synchronous state machine from bytes to tokens (part
 * start with its headers, body bytes, part end, close, error). It knows nothing
 * about streams, which keeps the byte-level rules testable through the public API
 * and the flow-control code (multipart-source.ts, multipart-part-body.ts) free of
 * parsing. The framing rules it implements are listed in multipart-reader.ts.
 */
import { PartHeaderBlock } from './multipart-header-block';
import { MultipartError } from './multipart-types';

const CR = 0x0d;
const LF = 0x0a;
const DASH = 0x2d;
const SPACE = 0x20;
const TAB = 0x09;
const EMPTY = Buffer.alloc(0);
const CR_BUFFER = Buffer.from([CR]);

export type Token =
  | { kind: 'part'; headers: Record<string, string> }
  | { kind: 'body'; data: Buffer }
  | { kind: 'part-end' }
  | { kind: 'close' }
  | { kind: 'error'; error: MultipartError };

export interface Limits {
  maxHeaderBytes: number;
  maxPreambleBytes: number;
}

/** Progress through the bytes that follow a "(CR)LF--boundary" match. */
type LinePhase = 'start' | 'dash' | 'padding' | 'cr';

export class Tokenizer {
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
  private headerBlock: PartHeaderBlock;

  constructor(
    boundary: string,
    private readonly limits: Limits,
    private readonly emit: (token: Token) => void,
  ) {
    // latin1: Node decodes HTTP headers as latin1, so this restores the wire bytes.
    this.needle = Buffer.from(`\n--${boundary}`, 'latin1');
    this.headerBlock = new PartHeaderBlock(limits.maxHeaderBytes);
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
          pos = this.headerLine(data, pos);
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
    this.headerBlock = new PartHeaderBlock(this.limits.maxHeaderBytes);
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

  /** One header line, or the blank line that ends the block and starts the body. */
  private headerLine(data: Buffer, pos: number): number {
    const step = this.headerBlock.readLine(data, pos);
    if (step.kind === 'error') {
      this.fail(step.error);
      return data.length;
    }
    if (step.kind === 'complete') {
      this.emit({ kind: 'part', headers: step.headers });
      this.state = 'body';
    }
    return step.next;
  }

  private fail(error: MultipartError): void {
    this.state = 'done';
    this.tail = EMPTY;
    this.emit({ kind: 'error', error });
  }
}
