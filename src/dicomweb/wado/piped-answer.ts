/**
 * Sending an upstream's answer byte for byte: a native stream pipe from the upstream's body to
 * the client's socket, with backpressure, and the upstream's Content-Length. The fast path of
 * relayed answers: no async iteration per chunk, which cost more CPU than the bytes themselves.
 *
 * As for every WADO answer (streamed-answer.ts): the first chunk is awaited before the headers go
 * out, so an upstream that fails at once still gets the client a status code; after that, a
 * failure of either side aborts the other (a client never takes a cut answer for a complete one,
 * and an upstream is not read for a client that left).
 */
import { Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Readable } from 'node:stream';
import { firstChunk } from '../../stores/first-chunk';

const logger = new Logger('WADO');

export async function pipeAnswer(reply: FastifyReply, contentType: string, length: number | undefined, source: Readable, what: string): Promise<void> {
  const first = await firstChunk(source);
  reply.header('content-type', contentType);
  if (length !== undefined) reply.header('content-length', String(length));
  const res = reply.raw;
  reply.hijack();
  res.writeHead(reply.statusCode, reply.getHeaders() as Record<string, string | string[]>);
  if (reply.request.method === 'HEAD') {
    source.destroy();
    res.end();
    return;
  }
  let sent = 0;
  let failed = false;
  const abort = (why: string) => {
    if (failed) return;
    failed = true;
    logger.error(`${what}: answer aborted after it started: ${why}`);
    res.destroy();
    source.destroy();
  };
  source.on('error', (e) => abort((e as Error)?.message ?? String(e)));
  source.on('data', (chunk: Buffer) => (sent += chunk.length));
  source.on('end', () => {
    // An upstream that ends early without an error would otherwise leave a Content-Length unmet.
    if (length !== undefined && sent !== length) abort(`the upstream sent ${sent} bytes instead of the announced ${length}`);
  });
  res.on('close', () => {
    if (!res.writableFinished) source.destroy(); // the client left: stop reading the upstream
  });
  if (first) {
    sent += first.length;
    res.write(first);
  }
  source.pipe(res);
}
