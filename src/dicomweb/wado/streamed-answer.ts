/**
 * Sending WADO-RS answers: a single body or a multipart/related one (PS3.18 8.6.1), streamed with
 * backpressure, with Content-Length whenever every part's length is known up front, so that
 * keep-alive connections are reused and a client can tell a complete answer from a cut one.
 *
 * Failures: everything that can fail before the first byte (a missing file, an unreadable header)
 * is made to fail before the headers go out, by opening each part's body before writing its part
 * header and by reading the first chunk of the answer before handing it to Fastify; the exception
 * filter then answers with a status. A failure after that aborts the response (Fastify destroys
 * the socket when its stream errors), so a client never takes a truncated answer for a complete one.
 */
import { Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Readable } from 'node:stream';
import { formatContentType } from '../multipart/content-type';
import { releaseSent } from '../../stores/read-buffers';
import { closeDelimiter, newBoundary, partHeader } from '../multipart/multipart-writer';

export interface AnswerBody {
  /** Known total length: sent as Content-Length (and checked while sending). */
  length?: number;
  chunks(): AsyncIterable<Buffer>;
}

export interface PlannedPart {
  headers: Record<string, string>;
  /** Known length of the body, for Content-Length. */
  length?: number;
  body(): AsyncIterable<Buffer>;
}

const logger = new Logger('WADO');

/** Parts opened ahead of the one being sent (each holds at most one read buffer). */
const READ_AHEAD = 3;

/** Opens an iterable and reads its first chunk, so that opening errors surface now. */
async function primed(iterable: AsyncIterable<Buffer>): Promise<AsyncGenerator<Buffer>> {
  const iterator = iterable[Symbol.asyncIterator]();
  const first = await iterator.next();
  return (async function* () {
    try {
      if (first.done) return;
      yield first.value;
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield next.value;
      }
    } finally {
      await iterator.return?.(undefined);
    }
  })();
}

/** Fails when a body yields another number of bytes than announced (Content-Length would lie). */
async function* counted(chunks: AsyncIterable<Buffer>, expected: number | undefined, what: string): AsyncGenerator<Buffer> {
  let sent = 0;
  for await (const chunk of chunks) {
    sent += chunk.length;
    if (expected !== undefined && sent > expected) throw new Error(`${what}: more than the announced ${expected} bytes`);
    yield chunk;
  }
  if (expected !== undefined && sent !== expected) throw new Error(`${what}: ${sent} bytes instead of the announced ${expected}`);
}

export function multipartBody(boundary: string, parts: PlannedPart[]): AnswerBody {
  let length: number | undefined = closeDelimiter(boundary, parts.length > 0).length;
  parts.forEach((part, i) => {
    if (length === undefined || part.length === undefined) length = undefined;
    else length += partHeader(boundary, part.headers, i > 0).length + part.length;
  });
  return {
    length,
    async *chunks() {
      // The next part is opened (and its first chunk read) while the current one is sent, so a
      // study of many small files does not wait on each open and first read in turn.
      const open = (i: number) => {
        const pending = primed(counted(parts[i].body(), parts[i].length, `part ${i + 1}`));
        pending.catch(() => undefined); // observed when awaited below
        return pending;
      };
      // Up to READ_AHEAD parts are opened (and their first chunk read) while one is sent, so the
      // socket never waits on a file read.
      const ahead: Promise<AsyncGenerator<Buffer>>[] = [];
      let opened = 0;
      const fill = () => {
        while (opened < parts.length && ahead.length < READ_AHEAD) ahead.push(open(opened++));
      };
      try {
        for (let i = 0; i < parts.length; i++) {
          fill();
          const body = await ahead.shift()!;
          fill();
          yield partHeader(boundary, parts[i].headers, i > 0);
          yield* body;
        }
        yield closeDelimiter(boundary, parts.length > 0);
      } finally {
        // Abandoned (client gone, or a part failed): close what was opened ahead.
        await Promise.all(ahead.map((p) => p.then((body) => body.return(undefined), () => undefined)));
      }
    },
  };
}

export function multipartContentType(boundary: string, payloadType: string): string {
  return formatContentType('multipart/related', { type: payloadType, boundary });
}

export { newBoundary };

/** Hands the answer to Fastify once its first chunk is read; rejects (nothing sent) before that. */
export async function sendAnswer(reply: FastifyReply, contentType: string, body: AnswerBody, what: string): Promise<void> {
  const stream = await primed(counted(body.chunks(), body.length, what));
  async function* logged(): AsyncGenerator<Buffer> {
    try {
      yield* stream;
    } catch (e) {
      // The headers are out: Fastify destroys the connection; say why in the log.
      logger.error(`${what}: answer aborted after it started: ${(e as Error)?.message ?? String(e)}`);
      throw e;
    }
  }
  reply.header('content-type', contentType);
  if (body.length !== undefined) reply.header('content-length', String(body.length));
  if (reply.request.method === 'HEAD') {
    // Headers only: Fastify would otherwise read a stream payload to its end.
    await stream.return(undefined);
    void reply.send(Readable.from([]));
    return;
  }
  // From here on a failure can only abort the response (see above). Chunks are written to the
  // socket here, not piped by Fastify, so that each pooled read buffer is released by its write
  // callback (stores/read-buffers.ts).
  void writeDirect(reply, logged());
}

async function writeDirect(reply: FastifyReply, chunks: AsyncGenerator<Buffer>): Promise<void> {
  const res = reply.raw;
  reply.hijack();
  res.writeHead(reply.statusCode, reply.getHeaders() as Record<string, string | string[]>);
  const waitForDrain = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
  try {
    for await (const chunk of chunks) {
      if (res.destroyed) {
        releaseSent(chunk);
        break;
      }
      // Corked until the next tick: a part header and the part that follows it leave in one writev.
      if (!res.writableCorked) {
        res.cork();
        process.nextTick(() => res.uncork());
      }
      if (!res.write(chunk, () => releaseSent(chunk))) await waitForDrain();
    }
    if (res.destroyed) await chunks.return(undefined);
    else res.end();
  } catch {
    res.destroy();
  }
}

/** A small answer already in memory. */
export async function sendBuffer(reply: FastifyReply, contentType: string, buffer: Buffer): Promise<void> {
  reply.header('content-type', contentType);
  void reply.send(buffer);
}

/**
 * An answer already in memory in a few pieces (a part header, a frame, the close delimiter),
 * written as they are: the socket gathers them into one writev, so a 0.5 MB frame is not copied
 * into a new buffer just to prepend 100 bytes of multipart framing.
 */
export async function sendBuffers(reply: FastifyReply, contentType: string, buffers: Buffer[]): Promise<void> {
  reply.header('content-type', contentType);
  reply.header('content-length', String(buffers.reduce((n, b) => n + b.length, 0)));
  const res = reply.raw;
  reply.hijack();
  res.writeHead(reply.statusCode, reply.getHeaders() as Record<string, string | string[]>);
  if (reply.request.method === 'HEAD') {
    res.end();
    return;
  }
  res.cork();
  for (const b of buffers) res.write(b, () => releaseSent(b));
  res.end();
  res.uncork();
}
