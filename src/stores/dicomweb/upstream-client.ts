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
import { DicomwebStoreConfig } from '../../config/store-config';
import { UpstreamError, UpstreamFailure, UpstreamUnavailable } from '../store-errors';
import { backoffDelayMs, sleep } from './backoff';
import { CircuitBreaker, CircuitOpen } from './circuit-breaker';
import { createUpstreamAuth, TokenRequestFailed, UpstreamAuth } from './upstream-auth';
import { errorDetail, FailureContext, isRetryable, networkFailure, statusFailure } from './upstream-failures';

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
  private readonly auth: UpstreamAuth;
  private readonly retryAfterSeconds: number;
  /** Outcome of the last call or probe, for health reports. */
  last?: { ok: boolean; at: Date; detail?: string };

  constructor(private readonly config: DicomwebStoreConfig) {
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
    this.auth = createUpstreamAuth(config.auth);
    this.retryAfterSeconds = Math.max(1, Math.ceil(config.circuitBreaker.openMs / 1000));
  }

  /** Sends a request; statuses below 500 come back, the rest is thrown (see the file comment). */
  async send(request: UpstreamRequest): Promise<UpstreamResponse> {
    const attempts = request.method === 'GET' ? (request.attempts ?? this.config.retries.attempts) : 1;
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
        if (++attempt >= attempts || e instanceof PausedUpstream || !isRetryable(failure)) throw failure;
        await sleep(backoffDelayMs(attempt - 1, this.config.retries.baseDelayMs, this.config.retries.maxDelayMs));
        continue;
      }
      if (response.status !== 401 && response.status !== 403) return response;
      await skipBody(response.body);
      if (!refreshedToken && this.config.auth.type === 'oauth2') {
        // The token may have been revoked or expired early: one more try with a fresh one.
        this.auth.invalidate();
        refreshedToken = true;
        continue;
      }
      throw new UpstreamError(`upstream store "${this.config.name}" (${request.what}) refused the gateway's credentials (${response.status})`);
    }
  }

  /** GET (or POST) and parse a JSON answer; `accept` statuses are returned with their JSON, others thrown. */
  async json<T>(request: UpstreamRequest, accept: (status: number) => boolean = (s) => s === 200): Promise<{ status: number; value: T | undefined }> {
    const response = await this.send(request);
    const text = await this.text(response, request.what);
    if (!accept(response.status)) throw this.unexpected(response.status, text, request.what);
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
  unexpected(status: number, body: string, what: string): UpstreamError {
    const detail = errorDetail(body);
    return new UpstreamError(`upstream store "${this.config.name}" (${what}) answered ${status}${detail ? `: ${detail}` : ''}`);
  }

  /** A body that broke after its headers came: counts against the upstream, mapped to a typed error. */
  failedBody(e: unknown, what: string): UpstreamFailure {
    if (e instanceof UpstreamFailure) return e;
    this.breaker.failure();
    const failure = this.toFailure(e, what);
    this.record(false, failure.message);
    return failure;
  }

  /** The light health probe: one try, outside the breaker's gate, but its outcome feeds it. */
  async probe(): Promise<void> {
    try {
      const response = await this.once({ method: 'GET', path: '/studies?limit=1', what: 'health probe', headers: { accept: 'application/dicom+json' } }, false);
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
      const authorization = await this.auth.header();
      if (authorization) headers = { ...headers, authorization };
    } catch (e) {
      this.breaker.failure();
      const failure =
        e instanceof TokenRequestFailed
          ? new UpstreamError(`upstream store "${this.config.name}": no access token (${e.message})`)
          : this.toFailure(e, 'token request');
      this.record(false, failure.message);
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
      this.record(false, failure.message);
      throw failure;
    }
    if (response.statusCode >= 500 || response.statusCode === 429) {
      this.breaker.failure();
      const detail = errorDetail(await response.body.text().catch(() => ''));
      const retryAfter = response.headers['retry-after'];
      const failure = statusFailure(response.statusCode, Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, detail, this.context(request.what));
      this.record(false, failure.message);
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

  private record(ok: boolean, detail?: string): void {
    this.last = { ok, at: new Date(), detail };
  }
}
