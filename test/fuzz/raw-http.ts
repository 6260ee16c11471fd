/**
 * HTTP/1.1 over a bare TCP socket, for hostile requests that node:http would refuse to send (NUL
 * in the path, lying or duplicated Content-Length, broken chunking, bytes that are not latin1):
 * the request is written as given, and every response the server sends on the connection is
 * parsed (status, headers, body framed by Content-Length or chunked) until the server closes it.
 */
import { connect } from 'node:net';

export interface RawRequest {
  /** The bytes on the wire: request line, headers, body. */
  bytes: Buffer;
  /** Keep the connection open this long after the bytes (a body that never comes), then end
   *  our side; the server must answer or close by itself. */
  stallMs?: number;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  bodyBytes: number;
}

export interface RawOutcome {
  responses: RawResponse[];
  /** closed: the server closed (after answering or not); timeout: it did neither in time. */
  ended: 'closed' | 'timeout';
  /** The server's side ended with a reset (ECONNRESET, EPIPE). */
  reset: boolean;
  ms: number;
}

export interface RequestSpec {
  method?: string;
  /** Raw request target: written verbatim (may hold anything but CR LF). */
  target: string | Buffer;
  headers?: [string, string | Buffer][];
  body?: Buffer;
  /** Content-Length to declare; 'none' leaves it out; default the body's length (when a body). */
  contentLength?: number | string | 'none';
}

/** Builds the bytes of one request; `Connection: close` so that each case has its own socket. */
export function buildRequest(spec: RequestSpec): Buffer {
  const lines: Buffer[] = [];
  const target = typeof spec.target === 'string' ? Buffer.from(spec.target, 'latin1') : spec.target;
  lines.push(Buffer.concat([Buffer.from(`${spec.method ?? 'GET'} `), target, Buffer.from(' HTTP/1.1\r\n')]));
  const headers: [string, string | Buffer][] = [['Host', '127.0.0.1'], ['Connection', 'close'], ...(spec.headers ?? [])];
  const declared = spec.contentLength ?? (spec.body ? spec.body.length : 'none');
  if (declared !== 'none') headers.push(['Content-Length', String(declared)]);
  for (const [name, value] of headers) lines.push(Buffer.concat([Buffer.from(`${name}: `), Buffer.isBuffer(value) ? value : Buffer.from(value, 'latin1'), Buffer.from('\r\n')]));
  lines.push(Buffer.from('\r\n'));
  if (spec.body) lines.push(spec.body);
  return Buffer.concat(lines);
}

/** Parses as many complete responses as `data` holds (a response without framing runs to the end). */
export function parseResponses(data: Buffer, closed: boolean): RawResponse[] {
  const out: RawResponse[] = [];
  let at = 0;
  while (at < data.length) {
    const headEnd = data.indexOf('\r\n\r\n', at);
    if (headEnd < 0) break;
    const head = data.toString('latin1', at, headEnd).split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(head[0]);
    if (!m) break;
    const headers: Record<string, string> = {};
    for (const line of head.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) {
        const name = line.slice(0, colon).trim().toLowerCase();
        const value = line.slice(colon + 1).trim();
        headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
      }
    }
    const status = Number(m[1]);
    let bodyStart = headEnd + 4;
    let bodyBytes = 0;
    if (status < 200 || status === 204 || status === 304) {
      // no body
    } else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      let p = bodyStart;
      for (;;) {
        const lineEnd = data.indexOf('\r\n', p);
        if (lineEnd < 0) return closed ? [...out, { status, headers, bodyBytes }] : out;
        const size = parseInt(data.toString('latin1', p, lineEnd), 16);
        if (!Number.isFinite(size)) return [...out, { status, headers, bodyBytes }];
        p = lineEnd + 2 + size + 2;
        bodyBytes += size;
        if (size === 0) {
          // trailers end with an empty line; none are expected
          break;
        }
        if (p > data.length) return closed ? [...out, { status, headers, bodyBytes }] : out;
      }
      bodyStart = p;
      out.push({ status, headers, bodyBytes });
      at = bodyStart;
      continue;
    } else if (headers['content-length'] !== undefined) {
      bodyBytes = Number(headers['content-length']);
    } else {
      bodyBytes = data.length - bodyStart;
    }
    out.push({ status, headers, bodyBytes: Math.min(bodyBytes, data.length - bodyStart) });
    at = bodyStart + bodyBytes;
  }
  return out;
}

/** Sends one request on its own connection and waits until the server closes it. */
export function exchange(port: number, request: RawRequest, timeoutMs: number): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const started = Date.now();
    const chunks: Buffer[] = [];
    let reset = false;
    let done = false;
    const socket = connect({ host: '127.0.0.1', port });
    const finish = (ended: RawOutcome['ended']) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(stall);
      socket.destroy();
      resolve({ responses: parseResponses(Buffer.concat(chunks), true), ended, reset, ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    let stall: NodeJS.Timeout | undefined;
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      // The server may close while we still write (it refused early): that is an answer too.
      if (e.code === 'ECONNRESET' || e.code === 'EPIPE') reset = true;
      finish('closed');
    });
    socket.on('close', () => finish('closed'));
    socket.on('end', () => finish('closed'));
    socket.on('connect', () => {
      socket.write(request.bytes, () => {
        if (request.stallMs === undefined) return;
        stall = setTimeout(() => socket.end(), request.stallMs);
      });
    });
  });
}
