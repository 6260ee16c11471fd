/**
 * Decodes an `aws-chunked` request body (SigV4 streaming upload) while it arrives:
 *  - STREAMING-AWS4-HMAC-SHA256-PAYLOAD: `hex-size;chunk-signature=SIG\r\n data \r\n`..., each
 *    chunk signed over the previous signature (the first over the request's own), ending with a
 *    signed 0-size chunk (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html);
 *  - STREAMING-UNSIGNED-PAYLOAD-TRAILER: `hex-size\r\n data \r\n`..., then `0\r\n`, trailer lines
 *    (x-amz-checksum-crc32:BASE64) and an empty line; the CRC32 trailer is verified.
 * Decoded bytes are yielded as they come; a bad chunk signature, a wrong length or checksum throws,
 * so the caller, which stores nothing before the whole body has been read, refuses the request.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { EMPTY_SHA256, hmacHex } from './sigv4-canonical';

export class ChunkedBodyError extends Error {
  constructor(
    readonly kind: 'signature' | 'checksum' | 'framing',
    message: string,
  ) {
    super(message);
  }
}

export interface ChunkSigning {
  amzDate: string;
  scope: string;
  signingKey: Buffer;
  seedSignature: string;
}

export interface AwsChunkedOptions {
  /** Present for signed chunks; absent for STREAMING-UNSIGNED-PAYLOAD-TRAILER. */
  signing?: ChunkSigning;
  /** x-amz-decoded-content-length, when the client sent it. */
  decodedLength?: number;
  /** Lower-case names from x-amz-trailer. */
  trailerNames: string[];
}

const MAX_LINE = 4096;

class Reader {
  private buffer: Buffer = Buffer.alloc(0);
  private ended = false;

  constructor(private readonly source: AsyncIterator<Buffer>) {}

  async fill(): Promise<boolean> {
    if (this.ended) return false;
    const next = await this.source.next();
    if (next.done) {
      this.ended = true;
      return false;
    }
    this.buffer = this.buffer.length === 0 ? next.value : Buffer.concat([this.buffer, next.value]);
    return true;
  }

  async line(): Promise<string> {
    for (;;) {
      const at = this.buffer.indexOf('\r\n');
      if (at >= 0) {
        const text = this.buffer.toString('latin1', 0, at);
        this.buffer = this.buffer.subarray(at + 2);
        return text;
      }
      if (this.buffer.length > MAX_LINE) throw new ChunkedBodyError('framing', 'aws-chunked line too long');
      if (!(await this.fill())) throw new ChunkedBodyError('framing', 'aws-chunked body ends inside a chunk header');
    }
  }

  /** Up to `max` bytes that are already here (reading more if none). */
  async some(max: number): Promise<Buffer> {
    if (this.buffer.length === 0 && !(await this.fill())) throw new ChunkedBodyError('framing', 'aws-chunked body ends inside a chunk');
    const out = this.buffer.subarray(0, Math.min(max, this.buffer.length));
    this.buffer = this.buffer.subarray(out.length);
    return out;
  }

  async atEnd(): Promise<boolean> {
    return this.buffer.length === 0 && !(await this.fill());
  }
}

function sameHex(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

export async function* decodeAwsChunked(source: AsyncIterable<Buffer>, options: AwsChunkedOptions): AsyncGenerator<Buffer> {
  const reader = new Reader(source[Symbol.asyncIterator]());
  const { signing } = options;
  let previousSignature = signing?.seedSignature ?? '';
  let decoded = 0;
  let checksum = 0;
  const trailers = new Map<string, string>();
  for (;;) {
    const headerLine = await reader.line();
    const [sizeText, ...extensions] = headerLine.split(';');
    if (!/^[0-9a-fA-F]+$/.test(sizeText)) throw new ChunkedBodyError('framing', `bad aws-chunked size "${sizeText}"`);
    const size = parseInt(sizeText, 16);
    const signature = extensions.find((e) => e.startsWith('chunk-signature='))?.slice('chunk-signature='.length);
    if (signing && !signature) throw new ChunkedBodyError('signature', 'a chunk of a signed aws-chunked body has no chunk-signature');
    const hash = createHash('sha256');
    for (let left = size; left > 0; ) {
      const piece = await reader.some(left);
      left -= piece.length;
      hash.update(piece);
      checksum = crc32(piece, checksum);
      decoded += piece.length;
      if (options.decodedLength !== undefined && decoded > options.decodedLength) throw new ChunkedBodyError('framing', 'aws-chunked body is longer than x-amz-decoded-content-length');
      yield piece;
    }
    if (signing) {
      const toSign = ['AWS4-HMAC-SHA256-PAYLOAD', signing.amzDate, signing.scope, previousSignature, EMPTY_SHA256, hash.digest('hex')].join('\n');
      const expected = hmacHex(signing.signingKey, toSign);
      if (!sameHex(expected, signature!)) throw new ChunkedBodyError('signature', 'The request signature we calculated does not match the signature you provided (aws-chunked chunk signature).');
      previousSignature = expected;
    }
    if (size > 0) {
      if ((await reader.line()) !== '') throw new ChunkedBodyError('framing', 'aws-chunked chunk data is not followed by CRLF');
      continue;
    }
    for (let line = await reader.line(); line !== ''; line = await reader.line()) {
      const colon = line.indexOf(':');
      if (colon > 0) trailers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    if (!(await reader.atEnd())) throw new ChunkedBodyError('framing', 'bytes after the final aws-chunked chunk');
    break;
  }
  if (options.decodedLength !== undefined && decoded !== options.decodedLength) {
    throw new ChunkedBodyError('framing', `aws-chunked body decodes to ${decoded} bytes, x-amz-decoded-content-length says ${options.decodedLength}`);
  }
  for (const name of options.trailerNames) {
    const value = trailers.get(name);
    if (value === undefined) throw new ChunkedBodyError('framing', `the trailer ${name} announced by x-amz-trailer is missing`);
    if (name === 'x-amz-checksum-crc32') {
      const computed = Buffer.alloc(4);
      computed.writeUInt32BE(checksum >>> 0, 0);
      if (computed.toString('base64') !== value) throw new ChunkedBodyError('checksum', `The CRC32 you specified did not match the calculated checksum (${value} sent, ${computed.toString('base64')} computed).`);
    }
  }
}
