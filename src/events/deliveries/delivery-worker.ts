/**
 * What one delivery job does (delivery-queue.ts calls `process` with the delivery id):
 * - not pending any more (delivered, dead, cancelled, or redelivered under another job): done;
 * - not due yet (next_attempt_at, from SQLite): wait until then;
 * - its subscription deleted: cancelled; paused: looks again every `pausedRecheckMs` (30 s), or at
 *   once when DeliveryService.wake(subscription) is called on resume;
 * - an earlier delivery of the same subscription and study still pending: waits for it (promoted as
 *   soon as that one finishes), so a subscriber sees `stable` before `results-received`;
 * - otherwise one attempt: POST of the stored JSON body, signed (webhook-signature.ts), within
 *   `timeoutMs` (the request is aborted after it). A 2xx is delivered; anything else (another
 *   status, timeout, connection error, a URL that is now unsafe) is a failed attempt, logged in
 *   delivery_attempts and retried after the next step of the schedule (with jitter), or dead when
 *   the schedule is over.
 *
 * Subscribers never hold each other up: every attempt is bounded by the timeout, attempts run
 * concurrently (deliveryConcurrency), and one subscription uses at most a quarter of the slots.
 */
import { Logger } from '@nestjs/common';
import { Agent, request } from 'undici';
import { lookup as dnsLookup, LookupAddress, LookupOptions } from 'node:dns';
import { checkWebhookUrl, unsafeAddressKind } from '../subscriptions/ssrf-guard';
import { SubscriptionStore } from '../subscriptions/subscription-store';
import { DeliveryQueue } from './delivery-queue';
import { DeliveryRow, DeliveryStore } from './delivery-store';
import { webhookHeaders } from './webhook-signature';
export { RETRY_SCHEDULE_MS } from '../../config/delivery-schedule';


/** Each delay is drawn in [90 %, 110 %] of its step, so that retries of many deliveries spread out. */
export function jittered(ms: number, random = Math.random()): number {
  return Math.round(ms * (0.9 + 0.2 * random));
}

export interface DeliveryWorkerOptions {
  timeoutMs: number;
  concurrency: number;
  allowPrivateTargets: boolean;
  schedule: readonly number[];
  /** How often a delivery of a paused subscription looks again. */
  pausedRecheckMs: number;
}

/** Completes a stored payload at send time (the publisher adds a fresh study token). */
export type PayloadFinisher = (payload: Record<string, unknown>) => Record<string, unknown>;

export interface AttemptOutcome {
  status: number | null;
  error: string | null;
  durationMs: number;
}

export interface DeliveryObserver {
  attempt(outcome: 'delivered' | 'failed' | 'dead', durationMs: number): void;
}

/** How long a delivery waiting behind an earlier one, or for a free slot of its subscription, waits at most before looking again. */
const ORDER_RECHECK_MAX_MS = 30_000;
const ORDER_RECHECK_MIN_MS = 500;
const SLOT_RECHECK_MS = 250;
const USER_AGENT = 'dicomweb-gateway-webhooks/1';

class AttemptAborted extends Error {}

export class DeliveryWorker {
  private readonly logger = new Logger('Webhook deliveries');
  private readonly agent: Agent;
  /** In-flight attempts by subscription. */
  private readonly inFlight = new Map<string, number>();
  private readonly aborters = new Set<AbortController>();
  private closing = false;
  private readonly perSubscription: number;

  /** Set by the publisher: completes each payload when it is sent. */
  finisher?: PayloadFinisher;

  constructor(
    private readonly store: DeliveryStore,
    private readonly subscriptions: SubscriptionStore,
    private readonly queue: DeliveryQueue,
    private readonly options: DeliveryWorkerOptions,
    private readonly observer?: DeliveryObserver,
  ) {
    // The address actually connected to is checked too (a name that resolved to a public address
    // for checkWebhookUrl may resolve to an internal one a moment later: DNS rebinding).
    const connect = { timeout: options.timeoutMs, ...(options.allowPrivateTargets ? {} : { lookup: safeLookup }) };
    this.agent = new Agent({ connect, keepAliveTimeout: 4_000, headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs });
    this.perSubscription = Math.max(1, Math.ceil(options.concurrency / 4));
  }

  start(): void {
    this.queue.start((id) => this.process(id), this.options.concurrency, (id) => this.finished(id));
  }

  /** Attempts in flight now, all subscriptions together. */
  get attemptsInFlight(): number {
    let n = 0;
    for (const v of this.inFlight.values()) n += v;
    return n;
  }

  /**
   * Stops taking jobs. The attempts under way are aborted (they are not counted, and go again at the
   * next start), or with `finishAttempts` (a graceful shutdown on SIGTERM) waited for: each is
   * bounded by the delivery timeout.
   */
  async close(finishAttempts = false): Promise<void> {
    this.closing = true;
    if (!finishAttempts) for (const a of this.aborters) a.abort(new AttemptAborted('the gateway is shutting down'));
    await this.queue.close();
    await this.agent.destroy().catch(() => undefined);
  }

  async process(id: string): Promise<number | undefined> {
    try {
      return await this.step(id);
    } catch (e) {
      // SQLite or the subscription store failed: the delivery stays pending; look again later.
      if (!this.closing) this.logger.error(`delivery ${id}: ${(e as Error).message}`);
      return Date.now() + 30_000;
    }
  }

  private async step(id: string): Promise<number | undefined> {
    if (this.closing) return Date.now() + 1_000;
    const row = this.store.get(id);
    if (!row || row.state !== 'pending') return undefined;
    let now = Date.now();
    if (row.next_attempt_at > now) return row.next_attempt_at;
    const subscription = this.subscriptions.get(row.subscription_id);
    if (!subscription) {
      this.store.cancel(id, 'subscription deleted');
      this.wakeNext(row);
      return undefined;
    }
    if (subscription.status !== 'active') return now + this.options.pausedRecheckMs;
    const earlier = this.store.earlierPending(row);
    if (earlier) {
      // Promoted by wakeNext as soon as the earlier one finishes; this is only the fallback.
      return Math.min(Math.max(earlier.next_attempt_at, now + ORDER_RECHECK_MIN_MS), now + ORDER_RECHECK_MAX_MS);
    }
    const busy = this.inFlight.get(row.subscription_id) ?? 0;
    if (busy >= this.perSubscription) return now + SLOT_RECHECK_MS + Math.floor(Math.random() * SLOT_RECHECK_MS);

    this.inFlight.set(row.subscription_id, busy + 1);
    let outcome: AttemptOutcome & { aborted?: boolean };
    const startedAt = Date.now();
    try {
      outcome = await this.attempt(subscription.url, row, this.subscriptions.signingSecrets(row.subscription_id, startedAt));
    } finally {
      const left = (this.inFlight.get(row.subscription_id) ?? 1) - 1;
      if (left > 0) this.inFlight.set(row.subscription_id, left);
      else this.inFlight.delete(row.subscription_id);
    }
    // Interrupted by shutdown: not an attempt; the next start sends it again (at least once).
    if (outcome.aborted) return Date.now() + 1_000;
    now = Date.now();
    const attempt = { startedAt, durationMs: outcome.durationMs, status: outcome.status, error: outcome.error };
    if (outcome.error === null) {
      this.store.recordAttempt(row, attempt, { state: 'delivered' }, now);
      this.observer?.attempt('delivered', outcome.durationMs);
      this.wakeNext(row);
      return undefined;
    }
    const inRound = row.attempts + 1 - row.round_start;
    const step = this.options.schedule[inRound - 1];
    if (step === undefined) {
      this.store.recordAttempt(row, attempt, { state: 'dead' }, now);
      this.observer?.attempt('dead', outcome.durationMs);
      this.logger.warn(`delivery ${row.id} of event ${row.event_id} to subscription ${row.subscription_id} is dead after ${inRound} attempts: ${outcome.error}`);
      this.wakeNext(row);
      return undefined;
    }
    const at = now + jittered(step);
    this.store.recordAttempt(row, attempt, { state: 'pending', nextAttemptAt: at }, now);
    this.observer?.attempt('failed', outcome.durationMs);
    this.logger.debug(`delivery ${row.id} attempt ${inRound} failed (${outcome.error}); next at ${new Date(at).toISOString()}`);
    return at;
  }

  /** One POST, bounded by the timeout from the URL check to the end of the answer. */
  private async attempt(url: string, row: DeliveryRow, secrets: string[]): Promise<AttemptOutcome & { aborted?: boolean }> {
    const started = Date.now();
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error(`timed out after ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
    this.aborters.add(controller);
    const aborted = new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true }));
    aborted.catch(() => undefined);
    const done = (status: number | null, error: string | null) => ({ status, error, durationMs: Date.now() - started });
    try {
      try {
        await Promise.race([checkWebhookUrl(url, this.options.allowPrivateTargets), aborted]);
      } catch (e) {
        if (controller.signal.aborted) throw e;
        return done(null, `unsafe webhook URL: ${(e as Error).message}`);
      }
      const body = this.finisher ? JSON.stringify(this.finisher(JSON.parse(row.payload) as Record<string, unknown>)) : row.payload;
      const headers = { ...webhookHeaders(row.event_id, Math.floor(Date.now() / 1000), body, secrets), 'user-agent': USER_AGENT };
      const response = await request(url, { method: 'POST', headers, body, signal: controller.signal, dispatcher: this.agent });
      const snippet = await readSnippet(response.body, 300);
      if (response.statusCode >= 200 && response.statusCode < 300) return done(response.statusCode, null);
      return done(response.statusCode, `HTTP ${response.statusCode}${snippet ? `: ${snippet}` : ''}`);
    } catch (e) {
      if (controller.signal.reason instanceof AttemptAborted) return { ...done(null, 'interrupted'), aborted: true };
      if (controller.signal.aborted) return done(null, (controller.signal.reason as Error).message);
      return done(null, describe(e));
    } finally {
      clearTimeout(timer);
      this.aborters.delete(controller);
    }
  }

  /** The next delivery of the same subscription and study, waiting behind this one, goes now. */
  private wakeNext(row: DeliveryRow): void {
    const next = this.store.nextPending(row);
    if (next) void this.queue.promote(next.id).catch(() => undefined);
  }

  /** A job left the queue: if its delivery was made pending again meanwhile (redeliver), queue it again. */
  private finished(id: string): void {
    if (this.closing) return;
    try {
      const row = this.store.get(id);
      if (row?.state === 'pending') void this.queue.add([{ id, at: row.next_attempt_at }]).catch(() => undefined);
    } catch {
      /* the reconciler will */
    }
  }
}

async function readSnippet(body: AsyncIterable<Buffer> & { destroy(): unknown }, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= limit) break; // leaving the loop destroys the rest of the body
  }
  return Buffer.concat(chunks)
    .subarray(0, limit)
    .toString('utf8')
    .replace(/\s+/g, ' ')
    .trim();
}

function describe(e: unknown): string {
  const err = e as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = err.code ?? err.cause?.code;
  const message = err.cause?.message ?? err.message ?? String(e);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

/** dns.lookup that refuses internal addresses (see ssrf-guard.ts), in both of its answer forms. */
function safeLookup(hostname: string, options: LookupOptions, callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void): void {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '');
    const unsafe = addresses.find((a) => unsafeAddressKind(a.address) !== undefined);
    if (unsafe || addresses.length === 0) {
      const e: NodeJS.ErrnoException = new Error(`webhook host ${hostname} resolves to ${unsafe ? `an internal address (${unsafe.address})` : 'nothing'}`);
      e.code = 'EUNSAFEADDRESS';
      return callback(e, '');
    }
    if (options.all) return callback(null, addresses);
    callback(null, addresses[0].address, addresses[0].family);
  });
}
