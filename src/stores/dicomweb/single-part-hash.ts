/**
 * SHA-256 and size of the first part of a multipart/related answer, computed as it streams (a
 * duplicate check compares an upstream's copy of an instance with the one being stored, and an
 * instance may be gigabytes). Deliberately minimal: stores do not depend on dicomweb/'s full
 * multipart reader, and one part with a known boundary is all this reads.
 */
import { createHash } from 'node:crypto';

const HEADER_END = Buffer.from('\r\n\r\n');
const MAX_HEAD_BYTES = 64 * 1024;

export class MalformedMultipart extends Error {}

export async function hashSinglePart(body: AsyncIterable<Buffer>, contentType: string): Promise<{ sha256: string; size: number } | undefined> {
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (!boundary) throw new MalformedMultipart(`not a multipart answer: ${contentType.slice(0, 100)}`);
  const opening = Buffer.from(`--${boundary}`);
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  const hash = createHash('sha256');
  let size = 0;
  let head: Buffer | undefined = Buffer.alloc(0) as Buffer;
  let held: Buffer = Buffer.alloc(0);
  for await (const chunk of body) {
    if (head !== undefined) {
      head = Buffer.concat([head, chunk]);
      const start = head.indexOf(opening);
      const end = start < 0 ? -1 : head.indexOf(HEADER_END, start);
      if (end < 0) {
        if (head.length > MAX_HEAD_BYTES) throw new MalformedMultipart('no part header within 64 KiB');
        continue;
      }
      held = head.subarray(end + HEADER_END.length);
      head = undefined;
    } else {
      held = held.length > 0 ? Buffer.concat([held, chunk]) : chunk;
    }
    const at = held.indexOf(delimiter);
    if (at >= 0) {
      hash.update(held.subarray(0, at));
      size += at;
      return { sha256: hash.digest('hex'), size };
    }
    // The delimiter may begin in this chunk and end in the next: keep its length minus one back.
    const safe = Math.max(0, held.length - (delimiter.length - 1));
    hash.update(held.subarray(0, safe));
    size += safe;
    held = held.subarray(safe);
  }
  if (head !== undefined) return undefined; // no part at all
  throw new MalformedMultipart('the multipart answer ended inside its first part');
}

/** SHA-256 and size of a single-part answer (HealthImaging answers one instance so). */
export async function hashWhole(body: AsyncIterable<Buffer>): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of body) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { sha256: hash.digest('hex'), size };
}
