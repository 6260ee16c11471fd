/**
 * Request ids: the client's `x-request-id` when it is a safe token (it is echoed in a header and
 * written to logs, so nothing that could split a header or a log line, and nothing long), else a
 * new random one. Fastify's own request id is this one (genReqId), so the audit trail, the logs,
 * the `X-Request-Id` answer header and the upstream calls all carry the same id.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

export function isSafeRequestId(value: unknown): value is string {
  return typeof value === 'string' && SAFE_REQUEST_ID.test(value);
}

export function newRequestId(): string {
  return randomUUID();
}

/** The id a request gets from its `x-request-id` header (repeated headers arrive joined by ", ": not safe). */
export function requestIdFor(header: string | string[] | undefined): string {
  return isSafeRequestId(header) ? header : newRequestId();
}

/** Fastify server options giving every request that id. */
export const REQUEST_ID_SERVER_OPTIONS = {
  // Fastify would take the header as it is; genReqId checks it first.
  requestIdHeader: false as const,
  genReqId: (raw: IncomingMessage): string => requestIdFor(raw.headers['x-request-id']),
};
