/**
 * Re-frames a multipart/related stream as it passes through: each part's header block is replaced
 * by what `rewrite` makes of it, the preamble and epilogue are dropped, and part bodies go through
 * untouched, as slices of the incoming chunks (no copy unless a chunk ends in what may be the
 * start of a delimiter). For relaying an upstream's WADO-RS answer: dropping headers that name the
 * upstream (Content-Location) and fixing non-standard ones costs almost nothing per byte, unlike
 * parsing each part into its own stream (multipart-reader.ts), which the gateway uses for uploads.
 *
 * Framing rules as the reader's (RFC 2046 5.1): a delimiter is (CR)LF "--" boundary followed by
 * "--" (the close delimiter), or transport padding and a line end; the first one may start the
 * stream. The output uses CRLF and the same boundary. A message that ends before its close
 * delimiter, or a header block over `maxHeaderBytes`, is an error (the stream is destroyed), so a
 * cut answer is never passed on as a complete one.
 */
import { Transform, TransformCallback } from 'node:stream';
import { MultipartError } from './multipart-reader';

const CR = 0x0d;
const LF = 0x0a;
const DASH = 0x2d;
const SPACE = 0x20;
const TAB = 0x09;

export type HeaderRewrite = (headers: Record<string, string>) => Record<string, string>;

type State = 'preamble' | 'delimiter' | 'headers' | 'body' | 'epilogue';

export class PartHeaderRewriter extends Transform {
  /** "\n--boundary": a delimiter is found by this, with the CR before it if there is one. */
  private readonly marker: Buffer;
  private state: State = 'preamble';
  private pending: Buffer = Buffer.alloc(0);
  private parts = 0;

  constructor(
    private readonly boundary: string,
    private readonly rewrite: HeaderRewrite,
    private readonly maxHeaderBytes = 16 * 1024,
  ) {
    super({ highWaterMark: 1024 * 1024 });
    this.marker = Buffer.from(`\n--${boundary}`, 'latin1');
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    try {
      this.pending = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
      this.advance();
      done();
    } catch (e) {
      done(e as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    if (this.state !== 'epilogue') {
      this.pending = Buffer.alloc(0);
      done(new MultipartError('truncated', `the multipart message ended ${this.parts === 0 ? 'before its first part' : `inside part ${this.parts}`}`));
      return;
    }
    done();
  }

  private advance(): void {
    for (;;) {
      const before = this.state;
      if (this.state === 'preamble') this.preamble();
      else if (this.state === 'delimiter') this.delimiter();
      else if (this.state === 'headers') this.headers();
      else if (this.state === 'body') this.body();
      else {
        this.pending = Buffer.alloc(0); // the epilogue is dropped
        return;
      }
      if (this.state === before) return; // waiting for more bytes
    }
  }

  /** Finds the first delimiter: "--boundary" at the very start, or after a line end. */
  private preamble(): void {
    const opening = this.marker.subarray(1);
    if (this.pending.length >= opening.length && this.pending.subarray(0, opening.length).equals(opening)) {
      this.pending = this.pending.subarray(opening.length);
      this.state = 'delimiter';
      return;
    }
    const at = this.findDelimiter(0);
    if (at === undefined) {
      // Keep only what may be the start of a delimiter; a long preamble is not stored.
      this.pending = this.pending.subarray(this.pending.length - this.possibleStart());
      return;
    }
    this.pending = this.pending.subarray(at.end);
    this.state = 'delimiter';
  }

  /** After "--boundary": "--" closes the message; padding and a line end open a part. */
  private delimiter(): void {
    const p = this.pending;
    if (p.length < 2) return;
    if (p[0] === DASH && p[1] === DASH) {
      this.push(Buffer.from(`${this.parts > 0 ? '\r\n' : ''}--${this.boundary}--\r\n`, 'latin1'));
      this.state = 'epilogue';
      return;
    }
    let i = 0;
    while (i < p.length && (p[i] === SPACE || p[i] === TAB)) i++;
    if (i >= p.length || (p[i] === CR && i + 1 >= p.length)) {
      if (p.length > this.maxHeaderBytes) throw new MultipartError('bad-header', 'transport padding too long');
      return;
    }
    if (p[i] === CR && p[i + 1] === LF) i += 2;
    else if (p[i] === LF) i += 1;
    else throw new MultipartError('bad-header', 'a delimiter line that does not end after the boundary');
    this.pending = p.subarray(i);
    this.state = 'headers';
  }

  private headers(): void {
    const p = this.pending;
    let end = -1;
    let skip = 0;
    for (let i = 0; i < p.length; i++) {
      if (p[i] !== LF) continue;
      // A blank line: "\n\n" or "\n\r\n" (the first line may itself be blank: no headers).
      if (i === 0 || (i === 1 && p[0] === CR)) {
        end = 0;
        skip = i + 1;
        break;
      }
      if (p[i + 1] === LF) {
        end = i;
        skip = i + 2;
        break;
      }
      if (p[i + 1] === CR && p[i + 2] === LF) {
        end = i;
        skip = i + 3;
        break;
      }
      if (i + 2 >= p.length) break; // cannot tell yet
    }
    if (end < 0) {
      if (p.length > this.maxHeaderBytes) throw new MultipartError('header-too-large', `a part header block over ${this.maxHeaderBytes} bytes`);
      return;
    }
    const headers: Record<string, string> = {};
    for (const line of p.subarray(0, end).toString('latin1').split(/\r?\n/)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      if (!Object.prototype.hasOwnProperty.call(headers, name)) headers[name] = line.slice(colon + 1).trim();
    }
    let text = `${this.parts > 0 ? '\r\n' : ''}--${this.boundary}\r\n`;
    for (const [name, value] of Object.entries(this.rewrite(headers))) text += `${name}: ${value}\r\n`;
    this.push(Buffer.from(`${text}\r\n`, 'latin1'));
    this.parts++;
    this.pending = p.subarray(skip);
    this.state = 'body';
  }

  /** Passes the body on up to the next delimiter; holds back only a possible start of one. */
  private body(): void {
    const at = this.findDelimiter(0);
    if (at !== undefined) {
      if (at.start > 0) this.push(this.pending.subarray(0, at.start));
      this.pending = this.pending.subarray(at.end);
      this.state = 'delimiter';
      return;
    }
    const keep = this.possibleStart();
    if (this.pending.length > keep) this.push(this.pending.subarray(0, this.pending.length - keep));
    this.pending = keep > 0 ? Buffer.from(this.pending.subarray(this.pending.length - keep)) : Buffer.alloc(0);
  }

  /** The next "(CR)LF--boundary" followed by "--", padding or a line end; undefined if none yet. */
  private findDelimiter(from: number): { start: number; end: number } | undefined {
    const p = this.pending;
    for (let at = p.indexOf(this.marker, from); at >= 0; at = p.indexOf(this.marker, at + 1)) {
      const after = at + this.marker.length;
      const found = { start: at > 0 && p[at - 1] === CR ? at - 1 : at, end: after };
      let i = after;
      if (i >= p.length) return undefined; // cannot tell yet: the caller keeps these bytes
      if (p[i] === DASH) {
        if (i + 1 >= p.length) return undefined;
        if (p[i + 1] === DASH) return found;
        continue;
      }
      while (i < p.length && (p[i] === SPACE || p[i] === TAB)) i++;
      if (i >= p.length) return undefined;
      if (p[i] === LF || p[i] === CR) return found;
    }
    return undefined;
  }

  /** Length of the longest end of `pending` that may begin a delimiter ("\r", "\r\n-", "\n--bou"...). */
  private possibleStart(): number {
    const p = this.pending;
    const m = this.marker;
    const lf = p.lastIndexOf(LF, p.length - 1);
    // A marker starting at an LF within its own length of the end, not yet complete or decidable.
    if (lf >= 0 && p.length - lf < m.length + 64) {
      const tail = p.subarray(lf);
      const n = Math.min(tail.length, m.length);
      if (tail.subarray(0, n).equals(m.subarray(0, n))) return p.length - lf + (lf > 0 && p[lf - 1] === CR ? 1 : 0);
    }
    return p[p.length - 1] === CR ? 1 : 0;
  }
}
