/**
 * Request rates and concurrent uploads per client (its authenticated identity, else its address),
 * so that one misbehaving device or script cannot starve the others: a token bucket of
 * `requestsPerMinute` with `burst` above it, and at most `concurrentUploads` STOW requests in
 * progress. Past either, 429 with Retry-After. Kept in this process: each replica limits what it
 * serves.
 */
import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GATEWAY_CONFIG } from '../config/config.module';
import { GatewayConfig } from '../config/gateway-config';
import { DicomwebError } from '../dicomweb/errors';
import { isDicomwebRoute } from '../events/tokens/study-token.guard';
import { principalOf } from './principal';
import { routeAccess } from './route-access';

export class TooManyRequests extends DicomwebError {
  constructor(message: string, retryAfterSeconds: number) {
    super(429, message, { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) });
  }
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Buckets idle this long are forgotten (they are full again by then). */
const IDLE_MS = 10 * 60_000;

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly uploads = new Map<string, number>();
  private sweptAt = 0;

  constructor(
    private readonly perMinute: number,
    private readonly burst: number,
    private readonly maxUploads: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one request's token; the seconds to wait when there is none. */
  take(client: string): number | undefined {
    if (this.perMinute <= 0) return undefined;
    const now = this.now();
    this.sweep(now);
    const rate = this.perMinute / 60_000;
    const bucket = this.buckets.get(client) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + (now - bucket.at) * rate);
    bucket.at = now;
    this.buckets.set(client, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return undefined;
    }
    return (1 - bucket.tokens) / rate / 1000;
  }

  /** Starts an upload; false when the client has as many in progress as allowed. */
  startUpload(client: string): boolean {
    if (this.maxUploads <= 0) return true;
    const running = this.uploads.get(client) ?? 0;
    if (running >= this.maxUploads) return false;
    this.uploads.set(client, running + 1);
    return true;
  }

  endUpload(client: string): void {
    if (this.maxUploads <= 0) return;
    const running = (this.uploads.get(client) ?? 1) - 1;
    if (running <= 0) this.uploads.delete(client);
    else this.uploads.set(client, running);
  }

  private sweep(now: number): void {
    if (now - this.sweptAt < IDLE_MS) return;
    this.sweptAt = now;
    for (const [client, bucket] of this.buckets) if (now - bucket.at > IDLE_MS) this.buckets.delete(client);
  }
}

@Injectable()
export class RateLimitGuard implements CanActivate {
  readonly limiter: RateLimiter;

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {
    const r = config.security.rateLimits;
    this.limiter = new RateLimiter(r.requestsPerMinute, r.burst, r.concurrentUploads);
  }

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const route = request.routeOptions?.url ?? '';
    const method = request.method.toUpperCase();
    const access = routeAccess(method, route, {}, {}, this.config.defaultStore, this.config.security.auth.publicMetrics);
    if (access.kind === 'public') return true;
    const principal = principalOf(request);
    const client = principal && principal.kind !== 'anonymous' ? principal.id : `address:${request.raw.socket?.remoteAddress ?? 'unknown'}`;
    const wait = this.limiter.take(client);
    const upload = method === 'POST' && isDicomwebRoute(route);
    if (wait !== undefined) {
      if (upload) reply.header('connection', 'close');
      throw new TooManyRequests(`more than ${this.config.security.rateLimits.requestsPerMinute} requests per minute from ${client}`, wait);
    }
    if (upload) {
      if (!this.limiter.startUpload(client)) {
        reply.header('connection', 'close');
        throw new TooManyRequests(`${client} has ${this.config.security.rateLimits.concurrentUploads} uploads in progress already; send the next when one has ended`, 1);
      }
      reply.raw.once('close', () => this.limiter.endUpload(client));
    }
    return true;
  }
}
