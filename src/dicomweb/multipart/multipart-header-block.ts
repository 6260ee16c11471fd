/**
 * One part's header block, for the multipart tokenizer (multipart-tokenizer.ts):
 * collects header lines across source chunks, enforces the size limit, and
 * parses "name: value" lines up to the blank line that ends the block.
 */
import { MultipartError } from './multipart-types';

const CR = 0x0d;
const LF = 0x0a;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** What one readLine() call made of the bytes; `next` is the offset at which to continue. */
export type HeaderStep =
  | { kind: 'line'; next: number }
  | { kind: 'complete'; next: number; headers: Record<string, string> }
  | { kind: 'error'; error: MultipartError };

/** A fresh one per part. */
export class PartHeaderBlock {
  private bytes = 0;
  private line: Buffer[] = [];
  private readonly headers: Record<string, string> = {};

  constructor(private readonly maxHeaderBytes: number) {}

  /** Reads at most one header line (or the part of one that is in `data`) from `pos` on. */
  readLine(data: Buffer, pos: number): HeaderStep {
    const lf = data.indexOf(LF, pos);
    const end = lf === -1 ? data.length : lf + 1;
    this.bytes += end - pos;
    if (this.bytes > this.maxHeaderBytes) {
      return {
        kind: 'error',
        error: new MultipartError('header-too-large', `part header block exceeds ${this.maxHeaderBytes} bytes`),
      };
    }
    if (lf === -1) {
      this.line.push(Buffer.from(data.subarray(pos))); // copy: small, and must outlive the chunk
      return { kind: 'line', next: end };
    }
    const piece = data.subarray(pos, lf);
    const raw = this.line.length === 0 ? piece : Buffer.concat([...this.line, piece]);
    this.line = [];
    const lineEnd = raw.length > 0 && raw[raw.length - 1] === CR ? raw.length - 1 : raw.length;
    if (lineEnd === 0) return { kind: 'complete', next: end, headers: this.headers };
    const line = raw.toString('latin1', 0, lineEnd);
    const colon = line.indexOf(':');
    const name = colon === -1 ? '' : line.slice(0, colon).trim().toLowerCase();
    if (!HEADER_NAME.test(name)) {
      return {
        kind: 'error',
        error: new MultipartError('bad-header', `malformed part header line: ${JSON.stringify(line.slice(0, 80))}`),
      };
    }
    addHeader(this.headers, name, line.slice(colon + 1).trim());
    return { kind: 'line', next: end };
  }
}

/** Own property even for `__proto__`; a repeated header is joined with ", " (RFC 9110 5.3). */
function addHeader(headers: Record<string, string>, name: string, value: string): void {
  const joined = Object.prototype.hasOwnProperty.call(headers, name) ? `${headers[name]}, ${value}` : value;
  Object.defineProperty(headers, name, { value: joined, enumerable: true, writable: true, configurable: true });
}
