/**
 * multipart/related (RFC 2387, RFC 2046 5.1) for the fakes: a reader that takes a byte stream and
 * yields one part at a time (only the current part is held in memory, the body as a whole never
 * is), and a writer for answers made of a few parts. Independent of the gateway's own multipart code
 * on purpose: the fakes judge what the gateway sends.
 */
import { randomBytes } from 'node:crypto';

export interface MultipartPart {
  /** Header names lower case. */
  headers: Record<string, string>;
  body: Buffer;
}

export class MultipartSyntaxError extends Error {
  override readonly name = 'MultipartSyntaxError';
}

const CRLF = Buffer.from('\r\n');

/** Pulls bytes from the source on demand and finds markers across chunk edges. */
class ByteCursor {
  private buffer: Buffer = Buffer.alloc(0);
  private done = false;

  constructor(private readonly source: AsyncIterator<Buffer>) {}

  private async more(): Promise<boolean> {
    if (this.done) return false;
    const next = await this.source.next();
    if (next.done) {
      this.done = true;
      return false;
    }
    this.buffer = this.buffer.length === 0 ? next.value : Buffer.concat([this.buffer, next.value]);
    return true;
  }

  /** Bytes before the next `marker`, consumed with it; at the end of the stream, what is left. */
  async until(marker: Buffer): Promise<{ bytes: Buffer; found: boolean }> {
    const pieces: Buffer[] = [];
    for (;;) {
      const at = this.buffer.indexOf(marker);
      if (at >= 0) {
        pieces.push(this.buffer.subarray(0, at));
        this.buffer = this.buffer.subarray(at + marker.length);
        return { bytes: Buffer.concat(pieces), found: true };
      }
      // Keep just enough of the tail to find a marker that straddles two chunks.
      const keep = Math.min(this.buffer.length, marker.length - 1);
      pieces.push(this.buffer.subarray(0, this.buffer.length - keep));
      this.buffer = this.buffer.subarray(this.buffer.length - keep);
      if (!(await this.more())) {
        pieces.push(this.buffer);
        this.buffer = Buffer.alloc(0);
        return { bytes: Buffer.concat(pieces), found: false };
      }
    }
  }
}

async function* withLeadingCrlf(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  yield CRLF; // so that a boundary on the very first line is found like every other one
  for await (const chunk of source) yield chunk;
}

export async function* readMultipartRelated(source: AsyncIterable<Buffer>, boundary: string): AsyncGenerator<MultipartPart> {
  const cursor = new ByteCursor(withLeadingCrlf(source)[Symbol.asyncIterator]());
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  if (!(await cursor.until(delimiter)).found) throw new MultipartSyntaxError(`no boundary "${boundary}" in the body`);
  for (;;) {
    const line = await cursor.until(CRLF);
    const rest = line.bytes.toString('latin1');
    if (rest.startsWith('--')) return; // the close delimiter
    // Only transport padding (RFC 2046 5.1.1) may follow a boundary on its line.
    if (!line.found || rest.trim() !== '') throw new MultipartSyntaxError('malformed boundary line');
    const headers: Record<string, string> = {};
    for (;;) {
      const header = await cursor.until(CRLF);
      if (!header.found) throw new MultipartSyntaxError('the body ends inside part headers');
      if (header.bytes.length === 0) break;
      const text = header.bytes.toString('latin1');
      const colon = text.indexOf(':');
      if (colon <= 0) throw new MultipartSyntaxError(`malformed part header line "${text}"`);
      headers[text.slice(0, colon).trim().toLowerCase()] = text.slice(colon + 1).trim();
    }
    const body = await cursor.until(delimiter);
    if (!body.found) throw new MultipartSyntaxError('the body ends before the closing boundary');
    yield { headers, body: body.bytes };
  }
}

export function newBoundary(): string {
  return `fake-${randomBytes(12).toString('hex')}`;
}

/** A whole multipart/related body; `type` is the root media type written into the Content-Type. */
export function writeMultipartRelated(parts: { contentType: string; body: Buffer }[], type: string, boundary = newBoundary()): { contentType: string; body: Buffer } {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Type: ${part.contentType}\r\nContent-Length: ${part.body.length}\r\n\r\n`), part.body, CRLF);
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { contentType: `multipart/related; type="${type}"; boundary=${boundary}`, body: Buffer.concat(chunks) };
}
