/**
 * Reads a request body - to a temp file for STOW, to memory for the small ones - counting the
 * wire bytes for the request log and refusing it past a limit (Content-Length first, then while
 * reading, so a chunked body is cut off too). `drain` empties a body the fake will not use so
 * that a keep-alive connection stays reusable after an error answer.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

export class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`Request payload size exceeds the limit: ${limit} bytes.`);
  }
}

async function* limited(req: IncomingMessage, maxBytes: number, onWireBytes: (n: number) => void): AsyncGenerator<Buffer> {
  let size = 0;
  for await (const chunk of req) {
    const c = chunk as Buffer;
    onWireBytes(c.length);
    size += c.length;
    if (size > maxBytes) throw new BodyTooLarge(maxBytes);
    yield c;
  }
}

function declaredTooLarge(req: IncomingMessage, maxBytes: number): boolean {
  const declared = Number(req.headers['content-length']);
  return Number.isFinite(declared) && declared > maxBytes;
}

/** The body in a temp file the caller removes. */
export async function receiveToFile(req: IncomingMessage, dir: string, maxBytes: number, onWireBytes: (n: number) => void): Promise<string> {
  if (declaredTooLarge(req, maxBytes)) throw new BodyTooLarge(maxBytes);
  const path = join(dir, `body-${randomUUID()}.tmp`);
  try {
    await pipeline(limited(req, maxBytes, onWireBytes), createWriteStream(path));
    return path;
  } catch (error) {
    await rm(path, { force: true });
    throw error;
  }
}

export async function receiveToMemory(req: IncomingMessage, maxBytes: number, onWireBytes: (n: number) => void): Promise<Buffer> {
  if (declaredTooLarge(req, maxBytes)) throw new BodyTooLarge(maxBytes);
  const chunks: Buffer[] = [];
  for await (const c of limited(req, maxBytes, onWireBytes)) chunks.push(c);
  return Buffer.concat(chunks);
}

/** Reads and discards what is left of a body; false if more than maxBytes remain (close the connection then). */
export async function drain(req: IncomingMessage, maxBytes: number, onWireBytes: (n: number) => void): Promise<boolean> {
  if (req.complete || req.readableEnded) return true;
  if (req.destroyed) return false;
  if (declaredTooLarge(req, maxBytes)) return false;
  try {
    for await (const _ of limited(req, maxBytes, onWireBytes)) void _;
    return true;
  } catch {
    return false;
  }
}
