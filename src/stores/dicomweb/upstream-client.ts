/**
 * The one way the dicomweb store talks to its upstream: a pool of keep-alive connections (undici),
 * time limits on connecting, on the first byte and on every silence of a body, the upstream's
 * credentials, retries with jittered backoff for idempotent GETs only, and a circuit breaker, so
 * that a dead or failing upstream costs a client one fast 503 instead of a hang.
 *
 * Answers with a status below 500 are handed back as they are (the caller decides what a 404 or a
 * 409 means); everything else is thrown as an UpstreamFailure (upstream-failures.ts).
 */
import { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { Dispatcher, Pool } from 'undici';
import { CircuitBreakerConfig, UpstreamRetries, UpstreamTimeouts } from '../../config/store-config';
import { UpstreamError, UpstreamFailure, UpstreamTimeout, UpstreamUnavailable } from '../store-errors';
import { currentRequestId } from '../../logging/request-context';
import { backoffDelayMs, sleep } from './backoff';
import { CircuitBreaker, CircuitOpen } from './circuit-breaker';
import { RequestAuthorizer } from './request-authorizer';
import { TokenRequestFailed } from './upstream-auth';
import { errorDetail, FailureContext, isRetryable, isThrottled, networkFailure, statusFailure } from './upstream-failures';

/** What an UpstreamClient needs: where, how long to wait, how often to try, how to authenticate. */
export interface UpstreamClientOptions {
  /** The store's name, for messages. */
  name: string;
  /** The upstream's DICOMweb root, e.g. http://orthanc:8042/dicom-web */
  url: string;
  timeouts: UpstreamTimeouts;
  retries: UpstreamRetries;
  circuitBreaker: CircuitBreakerConfig;
  connections: number;
  authorizer: RequestAuthorizer;
  /**
   * Throttling answers (429, and 503 from services that mean "slow down" by it) are retried with
   * backoff for every method, within `retries.attempts`: a cloud service documents that it did
   * nothing with a throttled request. They do not count against the circuit breaker either: the
   * upstream is alive, only busy. Other upstreams: 429 and 503 fail at once.
   */
  retryThrottled?: boolean;
  /** The health probe's request below the root (default a search of one study). */
  probePath?: string;
}

export interface UpstreamRequest {
  method: 'GET' | 'POST';
  /** Below the DICOMweb root ("/studies?PatientID=X"), already encoded. */
  path: string;
  headers?: Record<string, string>;
  /** A POST body, made anew for each try (a 401 is answered by resending with a fresh token). */
  body?: () => Readable;
  /** What is asked, for error messages ("search for studies"). */
  what: string;
  /** Tries in all for a GET; the store's configured number by default. */
  attempts?: number;
  /** Lower-case hex SHA-256 of the body, for an authorizer that signs it (AWS SigV4). */
  payloadSha256?: string;
}

/** Bytes of an answer read ahead of the reader, so the upstream keeps sending while the client's
 *  socket drains. Measured with bench/profile-upstream.ts on a 100 MB study: 64 KiB relayed
 *  510 MB/s (the gateway idle half the time, waiting on one side or the other), 1 MiB 840 MB/s,
 *  4 MiB no better. Bounded per answer, so memory stays constant whatever the study's size. */
const READ_AHEAD_BYTES = 1024 * 1024;

export interface UpstreamResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** Must be read to its end or destroyed. */
  body: Dispatcher.ResponseData['body'];
}

/**
 * Lets go of an answer's body without reading it (the connection is closed, not reused). */
export function releaseBody(body: Dispatcher.ResponseData['body']): void {
  if (!body.destroyed) body.destroy();
}

/** Reads a small body to its end and forgets it, so the connection is reused. */
export async function skipBody(body: Dispatcher.ResponseData['body']): Promise<void> {
  await body.dump({ limit: 256 * 1024 }).catch(() => undefined);
}

/** The circuit breaker is open: no call was made. */
export class PausedUpstream extends UpstreamUnavailable {}

/** Orthanc says `Keep-Alive: timeout=1`; undici's default 2 s margin would then close every
 *  connection after one request. Keep a connection while at least this much of its time is left. */
const KEEP_ALIVE_MARGIN_MS = 300;
/** Most bytes of a JSON answer read into memory (study metadata of a very large study). */
const MAX_JSON_BYTES = 512 * 1024 * 1024;

export type UpstreamFailureKind = 'unavailable' | 'timeout' | 'throttled' | 'error' | 'refused';

function failureKind(failure: unknown): UpstreamFailureKind {
  if (failure instanceof UpstreamFailure && isThrottled(failure) && failure.upstreamStatus === 429) return 'throttled';
  if (failure instanceof UpstreamTimeout) return 'timeout';
  if (failure instanceof UpstreamUnavailable) return 'unavailable';
  return 'error';
}

/** Immediate retries of a GET that met a connection closed under it (see send()). */
const STALE_CONNECTION_RETRIES = 2;

function isStaleConnection(e: unknown): boolean {
  const err = e as { code?: string; cause?: { code?: string } };
  const code = err?.code ?? err?.cause?.code;
  return code === 'UND_ERR_SOCKET' || code === 'ECONNRESET';
}

export class UpstreamClient {
  readonly breaker: CircuitBreaker;
  /** The DICOMweb root's path on the upstream's origin, without trailing slash ("/dicom-web"). */
  readonly rootPath: string;
  readonly origin: string;
  private readonly pool: Pool;
  private readonly auth: RequestAuthorizer;
  private readonly retryAfterSeconds: number;
  /** Outcome of the last call or probe, for health reports. */
  last?: { ok: boolean; at: Date; detail?: string };
  /** Failed calls since start, by kind (for the metrics). */
  readonly failures: Record<UpstreamFailureKind, number> = { unavailable: 0, timeout: 0, throttled: 0, error: 0, refused: 0 };

  constructor(private readonly config: UpstreamClientOptions) {
    const url = new URL(config.url);
    this.origin = url.origin;
    this.rootPath = url.pathname.replace(/\/+$/, '');
    this.pool = new Pool(this.origin, {
      connections: config.connections,
      pipelining: 1,
      connect: { timeout: config.timeouts.connectMs },
      headersTimeout: config.timeouts.firstByteMs,
      bodyTimeout: config.timeouts.idleMs,
      keepAliveTimeout: 4_000,
      keepAliveTimeoutThreshold: KEEP_ALIVE_MARGIN_MS,
    });
    this.breaker = new CircuitBreaker(config.circuitBreaker);
    this.auth = config.authorizer;
    this.retryAfterSeconds = Math.max(1, Math.ceil(config.circuitBreaker.openMs / 1000));
  }

  /** Whether request bodies must come with their SHA-256 (a signature covers it). */
  get needsPayloadHash(): boolean {
    return this.auth.needsPayloadHash === true;
  }

  /** Sends a request; statuses below 500 come back, the rest is thrown (see the file comment). */
  async send(request: UpstreamRequest): Promise<UpstreamResponse> {
    const configured = request.attempts ?? this.config.retries.attempts;
    const attempts = request.method === 'GET' || this.config.retryThrottled ? configured : 1;
    let refreshedToken = false;
    let staleRetries = 0;
    for (let attempt = 0; ; ) {
      let response: UpstreamResponse;
      try {
        response = await this.once(request);
      } catch (e) {
        // A pooled connection the upstream closed just as it was reused (its keep-alive ran out):
        // an idempotent request goes again at once, on another connection, without using a try.
        if (request.method === 'GET' && staleRetries < STALE_CONNECTION_RETRIES && isStaleConnection(e)) {
          staleRetries++;
          continue;
        }
        const failure = e instanceof UpstreamFailure ? e : this.toFailure(e, request.what);
        const throttled = this.config.retryThrottled === true && isThrottled(failure);
        const retryable = throttled || (request.method === 'GET' && isRetryable(failure));
        if (++attempt >= attempts || e instanceof PausedUpstream || !retryable) throw failure;
        const { baseDelayMs, maxDelayMs } = this.config.retries;
        let delay = backoffDelayMs(attempt - 1, baseDelayMs, maxDelayMs);
        // A throttled answer's Retry-After is honoured, up to the longest configured wait.
        if (throttled && failure.retryAfterSeconds !== undefined) delay = Math.max(delay, Math.min(failure.retryAfterSeconds * 1000, maxDelayMs));
        await sleep(delay);
        continue;
      }
      if (response.status !== 401 && response.status !== 403) return response;
      const text = await this.text(response, request.what).catch(() => '');
      if (!refreshedToken && this.auth.invalidate && (response.status === 401 || this.auth.refreshOnForbidden)) {
        // The token may have been revoked or expired early: one more try with a fresh one.
        this.auth.invalidate();
        refreshedToken = true;
        continue;
      }
      this.failures.refused++;
      const detail = errorDetail(text, response.headers);
      const verb = response.status === 401 ? "refused the gateway's credentials" : 'denied the gateway access';
      throw new UpstreamError(`upstream store "${this.config.name}" (${request.what}) ${verb} (${response.status}${detail ? `: ${detail}` : ''})`, undefined, response.status);
    }
  }

  /** GET (or POST) and parse a JSON answer; `accept` statuses are returned with their JSON, others thrown. */
  async json<T>(request: UpstreamRequest, accept: (status: number) => boolean = (s) => s === 200): Promise<{ status: number; value: T | undefined }> {
    const response = await this.send(request);
    const text = await this.text(response, request.what);
    if (!accept(response.status)) throw this.unexpected(response.status, text, request.what, response.headers);
    if (text.trim() === '') return { status: response.status, value: undefined };
    try {
      return { status: response.status, value: JSON.parse(text) as T };
    } catch {
      throw new UpstreamError(`upstream store "${this.config.name}" (${request.what}) answered ${response.status} with malformed JSON`);
    }
  }

  /** The body as text, within MAX_JSON_BYTES; a failure while reading is an UpstreamFailure. */
  async text(response: UpstreamResponse, what: string): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > MAX_JSON_BYTES) {
          releaseBody(response.body);
          throw new UpstreamError(`upstream store "${this.config.name}" (${what}): answer larger than ${MAX_JSON_BYTES} bytes`);
        }
        chunks.push(chunk);
      }
    } catch (e) {
      throw this.failedBody(e, what);
    }
    return Buffer.concat(chunks, size).toString('utf8');
  }

  /** A 4xx the caller did not expect: the upstream and the gateway disagree (502, with its reason). */
  unexpected(status: number, body: string, what: string, headers?: IncomingHttpHeaders): UpstreamError {
    const detail = errorDetail(body, headers);
    return new UpstreamError(`upstream store "${this.config.name}" (${what}) answered ${status}${detail ? `: ${detail}` : ''}`);
  }

  /** A body that broke after its headers came: counts against the upstream, mapped to a typed error. */
  failedBody(e: unknown, what: string): UpstreamFailure {
    if (e instanceof UpstreamFailure) return e;
    this.breaker.failure();
    const failure = this.toFailure(e, what);
    this.record(false, failure.message, failure);
    return failure;
  }

  /** The light health probe: one try, outside the breaker's gate, but its outcome feeds it. */
  async probe(): Promise<void> {
    try {
      const path = this.config.probePath ?? '/studies?limit=1';
      const response = await this.once({ method: 'GET', path, what: 'health probe', headers: { accept: 'application/dicom+json' } }, false);
      await skipBody(response.body);
      if (response.status >= 400) this.record(false, `health probe answered ${response.status}`);
    } catch {
      /* recorded by once() */
    }
  }

  async close(): Promise<void> {
    await this.pool.close().catch(() => this.pool.destroy());
  }

  private async once(request: UpstreamRequest, gated = true): Promise<UpstreamResponse> {
    if (gated) {
      try {
        this.breaker.enter();
      } catch (e) {
        if (!(e instanceof CircuitOpen)) throw e;
        throw new PausedUpstream(
          `upstream store "${this.config.name}" is failing (${this.last?.detail ?? 'repeated failures'}); calls are paused`,
          Math.max(1, Math.ceil(e.retryAfterMs / 1000)),
        );
      }
    }
    let headers: Record<string, string> = { ...(request.headers ?? {}) };
    try {
      const credentials = await this.auth.authorize({
        method: request.method,
        origin: this.origin,
        path: this.rootPath + request.path,
        headers,
        payloadSha256: request.payloadSha256,
        hasBody: request.body !== undefined,
      });
      headers = { ...headers, ...credentials };
      // The client's request id (or that of the job it caused), for the upstream's logs: added
      // after signing, so a signature never depends on it.
      const requestId = currentRequestId();
      if (requestId) headers['x-request-id'] = requestId;
    } catch (e) {
      this.breaker.failure();
      const failure =
        e instanceof TokenRequestFailed
          ? new UpstreamError(`upstream store "${this.config.name}": no access token (${e.message})`)
          : this.toFailure(e, 'token request');
      this.record(false, failure.message, failure);
      throw failure;
    }
    let response: Dispatcher.ResponseData;
    try {
      response = await this.pool.request({
        method: request.method,
        path: this.rootPath + request.path,
        headers,
        body: request.body?.(),
        highWaterMark: READ_AHEAD_BYTES,
      });
    } catch (e) {
      this.breaker.failure();
      const failure = this.toFailure(e, request.what);
      this.record(false, failure.message, failure);
      throw failure;
    }
    if (response.statusCode >= 500 || response.statusCode === 429) {
      const detail = errorDetail(await response.body.text().catch(() => ''), response.headers);
      const retryAfter = response.headers['retry-after'];
      const failure = statusFailure(response.statusCode, Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, detail, this.context(request.what));
      if (this.config.retryThrottled && isThrottled(failure)) this.breaker.success();
      else this.breaker.failure();
      this.record(false, failure.message, failure);
      throw failure;
    }
    this.breaker.success();
    this.record(true);
    // A body let go of early (client gone, one part read) is destroyed, which undici reports as an
    // 'error' event; whoever reads the body sees real errors through its own iterator.
    response.body.on('error', () => undefined);
    return { status: response.statusCode, headers: response.headers, body: response.body };
  }

  private toFailure(e: unknown, what: string): UpstreamFailure {
    return networkFailure(e, this.context(what));
  }

  private context(what: string): FailureContext {
    return { store: this.config.name, what, retryAfterSeconds: this.retryAfterSeconds, timeouts: this.config.timeouts };
  }

  private record(ok: boolean, detail?: string, failure?: unknown): void {
    this.last = { ok, at: new Date(), detail };
    if (!ok) this.failures[failureKind(failure)]++;
  }
}
