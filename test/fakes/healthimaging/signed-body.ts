/**
 * Reads a signed request body to a temp file (or, for small control-plane bodies, memory) while
 * hashing it, decoding aws-chunked framing on the way, and refuses it if it is larger than allowed
 * or does not match its signature: the declared x-amz-content-sha256, the chunk signatures, or -
 * when no hash was declared - the request signature recomputed over the body's hash. Nothing is
 * handed on before the whole body has passed, so a tampered body can never be stored.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import { decodeAwsChunked } from './aws-chunked-decoder';
import { AuthFailure, VerifiedRequest } from './sigv4-verifier';

export class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`the request body exceeds the limit of ${limit} bytes`);
  }
}

export interface ReceivedBody {
  /** The decoded body: a temp file the caller must remove, or bytes. */
  path?: string;
  bytes?: Buffer;
  size: number;
  sha256: string;
  /** CRC32 of the decoded body, for x-amz-checksum-crc32. */
  crc32: number;
  /** MD5 hex of the decoded body: S3's ETag of a single-part upload. */
  md5: string;
}

export interface ReceiveOptions {
  maxBytes: number;
  /** Folder for the temp file; without it the body is kept in memory. */
  tempDir?: string;
  /** Counts the wire bytes read (for the fake's request log). */
  onWireBytes(n: number): void;
}

function numberHeader(req: IncomingMessage, name: string): number | undefined {
  const v = req.headers[name];
  return typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined;
}

async function* counted(req: IncomingMessage, onWireBytes: (n: number) => void): AsyncGenerator<Buffer> {
  for await (const chunk of req) {
    onWireBytes((chunk as Buffer).length);
    yield chunk as Buffer;
  }
}

export async function receiveSignedBody(req: IncomingMessage, auth: VerifiedRequest, options: ReceiveOptions): Promise<ReceivedBody> {
  const streaming = auth.payload === 'streaming-signed' || auth.payload === 'streaming-unsigned-trailer';
  const decodedLength = numberHeader(req, 'x-amz-decoded-content-length');
  const declared = streaming ? decodedLength : numberHeader(req, 'content-length');
  if (declared !== undefined && declared > options.maxBytes) throw new BodyTooLarge(options.maxBytes);

  const wire = counted(req, options.onWireBytes);
  const trailerNames = String(req.headers['x-amz-trailer'] ?? '').split(',').map((t) => t.trim().toLowerCase()).filter(Boolean);
  const decoded = streaming
    ? decodeAwsChunked(wire, {
        signing: auth.payload === 'streaming-signed' ? { amzDate: auth.amzDate, scope: auth.scope, signingKey: auth.signingKey, seedSignature: auth.signature } : undefined,
        decodedLength,
        trailerNames,
      })
    : wire;

  const hash = createHash('sha256');
  const md5 = createHash('md5');
  let size = 0;
  let checksum = 0;
  const kept: Buffer[] = [];
  async function* measured(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      size += chunk.length;
      if (size > options.maxBytes) throw new BodyTooLarge(options.maxBytes);
      hash.update(chunk);
      md5.update(chunk);
      checksum = crc32(chunk, checksum);
      yield chunk;
    }
  }

  const path = options.tempDir ? join(options.tempDir, `body-${randomUUID()}.tmp`) : undefined;
  try {
    if (path) await pipeline(measured(decoded), createWriteStream(path));
    else for await (const chunk of measured(decoded)) kept.push(chunk);
    const sha256 = hash.digest('hex');
    if (auth.payload === 'hex' && sha256 !== auth.declaredSha256) {
      throw new AuthFailure('payloadMismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.");
    }
    if (auth.payload === 'deferred') auth.checkSignature(sha256);
    return { path, bytes: path ? undefined : Buffer.concat(kept), size, sha256, crc32: checksum >>> 0, md5: md5.digest('hex') };
  } catch (error) {
    if (path) await rm(path, { force: true });
    throw error;
  }
}
