/**
 * A small HTTP client for tests: sends a Buffer or a stream (with Content-Length or chunked) and
 * collects the whole answer. Uses node:http directly so tests control the framing exactly.
 */
import { request as httpRequest, IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  json<T = any>(): T;
  text(): string;
}

export interface SendOptions {
  method?: string;
  headers?: Record<string, string | number>;
  body?: Buffer | Readable | AsyncIterable<Buffer>;
  /** For stream bodies: send Content-Length instead of chunked. */
  contentLength?: number;
  timeoutMs?: number;
}

export function send(url: string, options: SendOptions = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...(options.headers ?? {}) };
    if (Buffer.isBuffer(options.body)) headers['content-length'] = options.body.length;
    else if (options.contentLength !== undefined) headers['content-length'] = options.contentLength;
    const req = httpRequest(url, { method: options.method ?? 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body,
          json: () => JSON.parse(body.toString('utf8')),
          text: () => body.toString('utf8'),
        });
      });
    });
    req.setTimeout(options.timeoutMs ?? 120_000, () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    const body = options.body;
    if (!body) req.end();
    else if (Buffer.isBuffer(body)) req.end(body);
    else Readable.from(body as AsyncIterable<Buffer>).pipe(req);
  });
}
