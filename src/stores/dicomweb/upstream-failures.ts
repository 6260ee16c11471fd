/**
 * What went wrong with a call to an upstream, as the gateway's typed errors: unreachable or
 * overloaded is 503 (with Retry-After), too slow is 504, anything else the upstream got wrong is
 * 502. The reason names the store and what was asked, never a URL with credentials or a token.
 */
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

/** The useful part of an upstream's error body: Orthanc's JSON Details/Message, or the first line. */
export function errorDetail(body: string): string {
  const text = body.trim();
  if (!text) return '';
  try {
    const json = JSON.parse(text) as Record<string, unknown>;
    const said = [json.Details, json.Message, json.message, json.error].find((v) => typeof v === 'string' && v !== '');
    if (said) return clean(String(said));
  } catch {
    /* not JSON */
  }
  return clean(text.split('\n')[0]);
}

function clean(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, ' ').slice(0, 200);
}
