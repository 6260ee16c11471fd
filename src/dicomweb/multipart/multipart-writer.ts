/**
 * Building blocks for multipart/related responses (RFC 2046 section 5.1,
 * RFC 2387) as WADO-RS sends them (PS3.18 8.7.3):
 *
 *   --b CRLF headers CRLF CRLF body1 CRLF --b CRLF headers CRLF CRLF body2 CRLF --b-- CRLF
 *
 * The CRLF before each later delimiter belongs to the delimiter (RFC 2046), so
 * it is emitted by partHeader()/closeDelimiter() when `afterPart` is true, never
 * appended to a body. The first delimiter has none: some DICOMweb clients do not
 * accept a leading CRLF even though RFC 2046 would read it as an empty preamble.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

/** RFC 2046 bchars: 1..70 characters, not ending with a space. */
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Printable ASCII only: a CR or LF in a value would inject header lines into the body. */
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;

/** 128 random bits as hex: only token characters, so it never needs quoting in Content-Type. */
export function newBoundary(): string {
  return `dicomweb-${randomBytes(16).toString('hex')}`;
}

function checkBoundary(boundary: string): void {
  if (!BOUNDARY.test(boundary)) throw new TypeError(`invalid multipart boundary: ${JSON.stringify(boundary)}`);
}

/**
 * The delimiter line and header block that open a part. `afterPart` is false
 * for the first part of the message and true for every later one.
 */
export function partHeader(boundary: string, headers: Record<string, string>, afterPart: boolean): Buffer {
  checkBoundary(boundary);
  let text = `${afterPart ? '\r\n' : ''}--${boundary}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    if (!HEADER_NAME.test(name)) throw new TypeError(`invalid part header name: ${JSON.stringify(name)}`);
    if (!HEADER_VALUE.test(value)) throw new TypeError(`invalid value for part header ${name}`);
    text += `${name}: ${value}\r\n`;
  }
  return Buffer.from(`${text}\r\n`, 'latin1');
}

/** Ends the message. `afterPart` is false only for a message with no parts. */
export function closeDelimiter(boundary: string, afterPart = true): Buffer {
  checkBoundary(boundary);
  return Buffer.from(`${afterPart ? '\r\n' : ''}--${boundary}--\r\n`, 'latin1');
}

export interface OutgoingPart {
  headers: Record<string, string>;
  body: AsyncIterable<Buffer> | Buffer;
}

/**
 * A complete multipart body as a byte stream. Readable.from() pulls from the
 * generator only when the stream is read, so a slow client slows down the
 * reading of `parts` and their bodies; destroying the stream calls return() on
 * the iterables, which lets them close files.
 */
export function multipartStream(boundary: string, parts: AsyncIterable<OutgoingPart> | Iterable<OutgoingPart>): Readable {
  checkBoundary(boundary);
  async function* bytes(): AsyncGenerator<Buffer> {
    let afterPart = false;
    for await (const part of parts) {
      yield partHeader(boundary, part.headers, afterPart);
      if (Buffer.isBuffer(part.body)) {
        if (part.body.length > 0) yield part.body;
      } else {
        for await (const chunk of part.body) {
          if (chunk.length > 0) yield chunk; // an empty push would be read as nothing, skip it
        }
      }
      afterPart = true;
    }
    yield closeDelimiter(boundary, afterPart);
  }
  return Readable.from(bytes(), { objectMode: false });
}
