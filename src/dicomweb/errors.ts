/**
 * DICOMweb errors and the one exception filter that answers every failure of every route. Domain
 * errors (from stores, ingest, parsing) are mapped here to a status code and a readable reason,
 * sent both as a `Warning: 299` header (PS3.18 8.6) and a JSON body. A 5xx means a bug or an
 * unavailable upstream, never something the client sent.
 */
import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { InvalidDicom } from '../dicom/errors';
import {
  InconsistentInstance,
  InstanceConflict,
  NotFound,
  StorageFull,
  StoreError,
  UpstreamFailure,
  UpstreamNotAcceptable,
  UpstreamTimeout,
  UpstreamUnavailable,
  UnsupportedSearch,
} from '../stores/store-errors';

export class DicomwebError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class BadRequest extends DicomwebError {
  constructor(message: string) {
    super(400, message);
  }
}
export class InvalidQuery extends BadRequest {}
export class NotAcceptable extends DicomwebError {
  constructor(message: string) {
    super(406, message);
  }
}
export class UnsupportedMediaType extends DicomwebError {
  constructor(message: string) {
    super(415, message);
  }
}
export class PayloadTooLarge extends DicomwebError {
  constructor(message: string) {
    super(413, message);
  }
}
/** The store takes no STOW (a federated view without a write member): 405 with Allow. */
export class MethodNotAllowed extends DicomwebError {
  constructor(message: string, allow: string) {
    super(405, message, { allow });
  }
}
export class ResourceNotFound extends DicomwebError {
  constructor(message: string) {
    super(404, message);
  }
}

const REASON_PHRASES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  507: 'Insufficient Storage',
};

export interface MappedError {
  status: number;
  message: string;
  headers: Record<string, string>;
}

/** Maps any thrown value to the answer a client gets. Exported for tests and non-Nest callers. */
export function mapError(error: unknown): MappedError {
  if (error instanceof DicomwebError) return { status: error.status, message: error.message, headers: error.headers };
  if (error instanceof NotFound) return { status: 404, message: error.message, headers: {} };
  if (error instanceof InstanceConflict || error instanceof InconsistentInstance) {
    return { status: 409, message: error.message, headers: {} };
  }
  if (error instanceof StorageFull) return { status: 507, message: error.message, headers: {} };
  if (error instanceof UnsupportedSearch) return { status: 400, message: error.message, headers: {} };
  if (error instanceof UpstreamFailure) {
    // Unreachable or overloaded 503, too slow 504, anything else the upstream got wrong 502.
    const status = error instanceof UpstreamUnavailable ? 503 : error instanceof UpstreamTimeout ? 504 : 502;
    const headers: Record<string, string> = {};
    if (error.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.retryAfterSeconds);
    return { status, message: error.message, headers };
  }
  if (error instanceof UpstreamNotAcceptable) return { status: 406, message: error.message, headers: {} };
  if (error instanceof StoreError) return { status: 500, message: error.message, headers: {} };
  if (error instanceof InvalidDicom) return { status: 400, message: error.message, headers: {} };
  if (error instanceof HttpException) return { status: error.getStatus(), message: error.message, headers: {} };
  // Fastify's own errors (bad JSON body, unsupported content type) carry a 4xx statusCode.
  const statusCode = (error as { statusCode?: unknown })?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    return { status: statusCode, message: (error as Error).message, headers: {} };
  }
  return { status: 500, message: 'Internal error; it has been logged', headers: {} };
}

/** A Warning header value: 299 (miscellaneous persistent warning), agent, quoted ASCII text. */
export function warningHeader(text: string): string {
  const ascii = text.replace(/[^\x20-\x7e]/g, '?').replace(/["\\]/g, "'").slice(0, 500);
  return `299 - "${ascii}"`;
}

@Catch()
export class DicomwebExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('DicomwebExceptionFilter');

  catch(error: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const reply = ctx.getResponse<FastifyReply>();
    const request = ctx.getRequest<FastifyRequest>();
    const mapped = mapError(error);
    if (mapped.status >= 500) {
      this.logger.error(`${request.method} ${request.routeOptions?.url ?? ''} failed: ${(error as Error)?.stack ?? String(error)}`);
    }
    if (reply.sent || reply.raw.headersSent) {
      // Headers are out: the only honest thing left is to abort, so the client sees a failure
      // instead of a truncated answer that looks complete.
      reply.raw.destroy(error instanceof Error ? error : undefined);
      return;
    }
    reply
      .status(mapped.status)
      .headers(mapped.headers)
      .header('warning', warningHeader(mapped.message))
      .header('content-type', 'application/json; charset=utf-8')
      .send({ status: mapped.status, error: REASON_PHRASES[mapped.status] ?? 'Error', message: mapped.message });
  }
}
