/**
 * What cuts a client that sends too slowly (slow-loris), so that a few such clients cannot hold
 * connections, staging files and upload slots for ever:
 * - the request line and headers must arrive within `headersTimeoutMs` (Node answers 408);
 * - a connection on which nothing moves for `idleTimeoutMs` is closed;
 * - a request body must average at least `minBodyBytesPerSecond` over each `bodyRateWindowMs`, or
 *   the gateway answers 408 and closes the connection (the upload is discarded as any broken
 *   one is: nothing half-written is kept).
 * Total request time is deliberately not bounded: a 2 GB study on a slow but steady link is fine.
 */
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { SlowClientLimits } from '../config/security-config';
import { warningHeader } from '../dicomweb/errors';

/** Options for Node's HTTP(S) server: how long the headers may take and how often that is checked. */
export function slowClientServerOptions(limits: SlowClientLimits): { headersTimeout: number; connectionsCheckingInterval: number } {
  return {
    headersTimeout: limits.headersTimeoutMs,
    // Node checks headersTimeout only this often (30 s by default): a 20 s limit would be 50 s.
    connectionsCheckingInterval: Math.max(250, Math.min(5_000, Math.floor(limits.headersTimeoutMs / 4))),
  };
}

function hasBody(headers: Record<string, string | string[] | undefined>): boolean {
  const length = Number(headers['content-length'] ?? 0);
  return headers['transfer-encoding'] !== undefined || (Number.isFinite(length) && length > 0);
}

function refuseSlowBody(socket: Socket, limits: SlowClientLimits): void {
  const reason = `the request body arrived slower than ${limits.minBodyBytesPerSecond} bytes/s over ${limits.bodyRateWindowMs / 1000} s; the upload is discarded`;
  const body = JSON.stringify({ status: 408, error: 'Request Timeout', message: reason });
  socket.end(
    `HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Warning: ${warningHeader(reason)}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  socket.destroySoon();
}

/** Watches each request body's pace at the socket. */
export function installBodyRateGuard(fastify: FastifyInstance, limits: SlowClientLimits): void {
  if (limits.minBodyBytesPerSecond === 0) return;
  const minBytesPerWindow = (limits.minBodyBytesPerSecond * limits.bodyRateWindowMs) / 1000;
  fastify.addHook('onRequest', (request, _reply, done) => {
    const raw = request.raw;
    const socket = raw.socket;
    if (!hasBody(raw.headers) || raw.complete) return done();
    let baseline = socket.bytesRead;
    const timer = setInterval(() => {
      if (raw.complete || socket.destroyed) return clearInterval(timer);
      // Bytes the gateway has not read yet: the pause is ours (a slow disk or upstream), not the client's.
      if (raw.readableLength > 0 || socket.isPaused()) {
        baseline = socket.bytesRead;
        return;
      }
      if (socket.bytesRead - baseline < minBytesPerWindow) {
        clearInterval(timer);
        refuseSlowBody(socket, limits);
        return;
      }
      baseline = socket.bytesRead;
    }, limits.bodyRateWindowMs);
    timer.unref();
    raw.once('end', () => clearInterval(timer));
    raw.once('close', () => clearInterval(timer));
    done();
  });
}
