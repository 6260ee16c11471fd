/**
 * What went wrong with a call to an upstream, as the gateway's typed errors: unreachable or
 * overloaded is 503 (with Retry-After), too slow is 504, anything else the upstream got wrong is
 * 502. The reason names the store and what was asked, never a URL with credentials or a token.
 */
import { IncomingHttpHeaders } from 'node:http';
import { UpstreamError, UpstreamFailure, UpstreamTimeout, UpstreamUnavailable } from '../store-errors';

/** Node and undici error codes of a connection that could not be made at all. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN']);
/** The connection broke while a request was on it. */
const BROKEN = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ECONNABORTED']);

/** The error code of a network error, looking into the wrappers undici and Node put around it. */
export function errorCode(e: unknown): string | undefined {
  const err = e as { code?: unknown; cause?: unknown; errors?: unknown[] };
  if (typeof err?.code === 'string') return err.code;
  if (err?.cause) return errorCode(err.cause);
  if (Array.isArray(err?.errors) && err.errors.length > 0) return errorCode(err.errors[0]);
  return undefined;
}

export interface FailureContext {
  store: string;
  what: string;
  /** Retry-After for an unreachable upstream. */
  retryAfterSeconds: number;
  timeouts: { connectMs: number; firstByteMs: number; idleMs: number };
}

/** A thrown network error -> a typed UpstreamFailure. */
export function networkFailure(e: unknown, ctx: FailureContext): UpstreamFailure {
  if (e instanceof UpstreamFailure) return e;
  const code = errorCode(e);
  const prefix = `upstream store "${ctx.store}" (${ctx.what})`;
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return new UpstreamTimeout(`${prefix}: no connection within ${ctx.timeouts.connectMs} ms`, ctx.retryAfterSeconds);
    case 'UND_ERR_HEADERS_TIMEOUT':
      return new UpstreamTimeout(`${prefix}: no answer within ${ctx.timeouts.firstByteMs} ms`);
    case 'UND_ERR_BODY_TIMEOUT':
      return new UpstreamTimeout(`${prefix}: the answer stalled for more than ${ctx.timeouts.idleMs} ms`);
  }
  if (code && UNREACHABLE.has(code)) return new UpstreamUnavailable(`${prefix}: cannot be reached (${code})`, ctx.retryAfterSeconds);
  if (code && BROKEN.has(code)) return new UpstreamError(`${prefix}: the connection broke (${code})`);
  return new UpstreamError(`${prefix}: ${(e as Error)?.message ?? String(e)}`);
}

/**
 * Whether a failed GET may be tried again: a connection that broke or never came, or a 502-504.
 * Not a 500 (an upstream that fails the same request the same way, as Orthanc does for what it
 * cannot do) and not a first-byte timeout (asking a slow upstream again makes it slower).
 */
export function isRetryable(failure: UpstreamFailure): boolean {
  if (failure.upstreamStatus !== undefined) return failure.upstreamStatus >= 502 && failure.upstreamStatus <= 504;
  return !(failure instanceof UpstreamTimeout) || /no connection within/.test(failure.message);
}

/** An upstream 5xx (or 429) answer -> a typed UpstreamFailure; `detail` is the start of its body. */
export function statusFailure(status: number, retryAfter: string | undefined, detail: string, ctx: FailureContext): UpstreamFailure {
  const prefix = `upstream store "${ctx.store}" (${ctx.what}) answered ${status}${detail ? `: ${detail}` : ''}`;
  const seconds = parseRetryAfter(retryAfter);
  if (status === 503 || status === 429) return new UpstreamUnavailable(prefix, seconds ?? ctx.retryAfterSeconds, status);
  if (status === 504) return new UpstreamTimeout(prefix, seconds, status);
  return new UpstreamError(prefix, seconds, status);
}

function parseRetryAfter(value: string | undefined): number | undefined {
  if (!value) return undefined;
  if (/^\d{1,6}$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

/** Whether a failure is the upstream asking to slow down (429, or 503), not a fault. */
export function isThrottled(failure: UpstreamFailure): boolean {
  return failure.upstreamStatus === 429 || failure.upstreamStatus === 503;
}

/**
 * The useful part of an upstream's error answer: Orthanc's JSON Details/Message, an AWS error
 * (its type from the x-amzn-ErrorType header, then its message), a Google error object
 * ({"error": {"status", "message"}}, alone or in an array), or the first line of the body.
 */
export function errorDetail(body: string, headers?: IncomingHttpHeaders): string {
  const awsType = awsErrorType(headers);
  const said = bodyDetail(body.trim());
  if (awsType) return clean(said ? `${awsType}: ${said}` : awsType);
  return clean(said);
}

function bodyDetail(text: string): string {
  if (!text) return '';
  try {
    let json = JSON.parse(text) as unknown;
    if (Array.isArray(json) && json.length > 0) json = json[0];
    if (typeof json === 'object' && json !== null) {
      const o = json as Record<string, unknown>;
      if (typeof o.error === 'object' && o.error !== null) {
        const e = o.error as Record<string, unknown>;
        const status = typeof e.status === 'string' ? e.status : '';
        const message = typeof e.message === 'string' ? e.message : '';
        if (status || message) return status && message ? `${status}: ${message}` : status || message;
      }
      const said = [o.Details, o.Message, o.message, o.error_description, o.error].find((v) => typeof v === 'string' && v !== '');
      if (said) return String(said);
    }
  } catch {
    /* not JSON */
  }
  return text.split('\n')[0];
}

/** "ThrottlingException" of "ThrottlingException:http://internal.amazon.com/coral/...". */
function awsErrorType(headers: IncomingHttpHeaders | undefined): string | undefined {
  const raw = headers?.['x-amzn-errortype'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  const type = value?.split(':')[0].trim();
  return type && /^[A-Za-z][A-Za-z0-9.]{0,99}$/.test(type) ? type : undefined;
}

function clean(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, ' ').slice(0, 200);
}
