/**
 * Graceful shutdown on SIGTERM and SIGINT, in this order:
 * 1. stop accepting at once: the listener closes (new connections are refused), a request that
 *    still arrives on an open connection is answered 503, idle keep-alive connections are closed,
 *    and so is each connection as soon as its answer in flight is done (Connection: close);
 * 2. let the requests in flight finish (a STOW upload in progress completes and is acknowledged);
 * 3. app.close(signal): Nest's shutdown hooks, in module order: the audit trail is flushed, queue
 *    workers finish their current jobs (forwarding, webhook attempts), then Redis and SQLite close;
 * 4. exit 0. Past the deadline (shutdownTimeoutMs) the requests and jobs still running are logged
 *    and the process exits 1: every acknowledged instance is already durable, so cutting the rest
 *    loses nothing that a client was told was stored.
 * Nest's own enableShutdownHooks is not used: it would close the databases before the requests in
 * flight are done, and end by re-raising the signal instead of exiting 0.
 */
import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Server, ServerResponse } from 'node:http';
import { runningJobs } from '../logging/running-jobs';

/** How often connections left idle by a finished answer are closed while draining (a backstop:
 *  each answer's end closes its own). */
const IDLE_SWEEP_MS = 250;

interface InFlightRequest {
  method: string;
  /** The route pattern, never the URL (query strings carry patient data). */
  route: string;
  requestId: string;
  startedAt: number;
  raw: ServerResponse;
}

export class GracefulShutdown {
  private readonly logger = new Logger('Shutdown');
  private readonly inFlight = new Set<InFlightRequest>();
  private draining = false;
  private step = 'finishing requests';

  constructor(
    private readonly app: NestFastifyApplication,
    private readonly timeoutMs: number,
    private readonly exit: (code: number) => void = (code) => process.exit(code),
  ) {}

  /** Tracks the requests in flight; must run before the app listens. */
  install(): this {
    const fastify = this.app.getHttpAdapter().getInstance();
    fastify.addHook('onRequest', (request, reply, done) => {
      const entry: InFlightRequest = {
        method: request.method,
        route: request.routeOptions?.url ?? '(no route)',
        requestId: String(request.id),
        startedAt: Date.now(),
        raw: reply.raw,
      };
      this.inFlight.add(entry);
      reply.raw.once('close', () => {
        this.inFlight.delete(entry);
        if (this.draining) setImmediate(() => this.closeIdleConnections());
      });
      done();
    });
    return this;
  }

  listenForSignals(): this {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void this.shutdown(signal));
    return this;
  }

  async shutdown(signal: string): Promise<void> {
    if (this.draining) {
      this.logger.warn(`${signal} again while shutting down (${this.step}); the deadline stands`);
      return;
    }
    this.draining = true;
    const started = Date.now();
    this.logger.log(`${signal}: shutting down; ${this.inFlight.size} request(s) and ${runningJobs().length} job(s) in flight, ${this.timeoutMs} ms to finish`);
    const deadline = setTimeout(() => this.giveUp(), this.timeoutMs);
    for (const request of this.inFlight) if (!request.raw.headersSent) request.raw.setHeader('connection', 'close');
    const sweeper = setInterval(() => this.closeIdleConnections(), IDLE_SWEEP_MS);
    try {
      await this.app.getHttpAdapter().getInstance().close();
      clearInterval(sweeper);
      this.step = 'stopping workers, closing Redis and SQLite';
      // Nest passes the signal to the hooks (beforeApplicationShutdown(signal)); its typings omit it.
      await (this.app.close as (signal?: string) => Promise<void>).call(this.app, signal);
      clearTimeout(deadline);
      this.logger.log(`stopped in ${Date.now() - started} ms`);
      this.exit(0);
    } catch (e) {
      clearTimeout(deadline);
      clearInterval(sweeper);
      this.logger.error(`shutdown failed while ${this.step}: ${(e as Error)?.stack ?? String(e)}`);
      this.exit(1);
    }
  }

  private giveUp(): void {
    const now = Date.now();
    const requests = [...this.inFlight].map((r) => ({ method: r.method, route: r.route, requestId: r.requestId, runningMs: now - r.startedAt }));
    const jobs = runningJobs().map((j) => ({ what: j.what, requestId: j.requestId, runningMs: now - j.startedAt }));
    const described = [
      ...requests.map((r) => `${r.method} ${r.route} (request ${r.requestId}, ${r.runningMs} ms)`),
      ...jobs.map((j) => `${j.what}${j.requestId ? ` (request ${j.requestId})` : ''}, ${j.runningMs} ms`),
    ];
    this.logger.error(`shutdown deadline of ${this.timeoutMs} ms passed while ${this.step}; still running: ${described.join('; ') || 'nothing tracked'}`, { requests, jobs });
    this.exit(1);
  }

  private closeIdleConnections(): void {
    const server = this.app.getHttpServer() as Server;
    server.closeIdleConnections?.();
  }
}
