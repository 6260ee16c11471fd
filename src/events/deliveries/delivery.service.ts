/**
 * Signed, retried webhook deliveries (DESIGN.md 6): the event publisher records a delivery with
 * `enqueue`; it is written to events.sqlite first (the source of truth), then queued (BullMQ queue
 * `webhooks` under REDIS_KEY_PREFIX with REDIS_URL, in process otherwise). The worker
 * (delivery-worker.ts) sends it, retries it on the schedule of config/delivery-schedule.ts and logs every
 * attempt; the reconciler (delivery-reconciler.ts) queues again at start and periodically what
 * Redis lost or never got. At-least-once: the subscriber deduplicates on webhook-id (the event id).
 *
 * The schedule and the paused re-check come from the config (EVENTS_DELIVERY_RETRY_SCHEDULE_MS,
 * EVENTS_DELIVERY_RETRY_SCALE, EVENTS_DELIVERY_PAUSED_RECHECK_MS shorten them for tests).
 */
import { BeforeApplicationShutdown, Inject, Injectable, Logger, NotFoundException, OnApplicationBootstrap, OnApplicationShutdown, Optional, ConflictException } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { GATEWAY_CONFIG } from '../../config/config.module';
import { GatewayConfig } from '../../config/gateway-config';
import { redisOptions } from '../../config/redis-options';
import { METRICS } from '../../metrics/metrics.module';
import { EVENTS_DB } from '../events-database.module';
import { EventsDatabase } from '../events-database';
import { StudyEvent } from '../study-event';
import { SubscriptionStore } from '../subscriptions/subscription-store';
import { DeliveryQueue, MemoryDeliveryQueue, RedisDeliveryQueue } from './delivery-queue';
import { DeliveryReconciler } from './delivery-reconciler';
import { AttemptRow, DeliveryRow, DeliveryStore } from './delivery-store';
import { DeliveryWorker, DeliveryWorkerOptions, PayloadFinisher } from './delivery-worker';

/** Optional overrides (tests that build the module themselves). */
export const DELIVERY_OPTIONS = Symbol('DELIVERY_OPTIONS');

export interface DeliveryServiceOptions {
  schedule?: readonly number[];
  pausedRecheckMs?: number;
  reconcileIntervalMs?: number;
  retentionMs?: number;
}

const RECONCILE_INTERVAL_MS = 60_000;
const RETENTION_MS = 30 * 24 * 3600_000;
/** enqueue never waits on Redis longer than this; the reconciler queues what was not. */
const ENQUEUE_TIMEOUT_MS = 2_000;
const DEFAULT_LIST_LIMIT = 50;
const MAX_LIST_LIMIT = 500;

export interface DeliveryView {
  id: string;
  subscriptionId: string;
  eventId: string;
  eventType: string;
  store: string;
  studyInstanceUid: string;
  state: DeliveryRow['state'];
  attempts: number;
  nextAttemptAt: string | null;
  createdAt: string;
  updatedAt: string;
  deliveredAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
  attemptLog: { attempt: number; startedAt: string; durationMs: number; status: number | null; error: string | null }[];
}

@Injectable()
export class DeliveryService implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('Webhook deliveries');
  private readonly store: DeliveryStore;
  private readonly queue: DeliveryQueue;
  private readonly worker: DeliveryWorker;
  private readonly reconciler: DeliveryReconciler;
  private stopped = false;

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    @Inject(EVENTS_DB) events: EventsDatabase,
    private readonly subscriptions: SubscriptionStore,
    @Optional() @Inject(METRICS) metrics?: Registry,
    @Optional() @Inject(DELIVERY_OPTIONS) options: DeliveryServiceOptions = {},
  ) {
    this.store = new DeliveryStore(events);
    this.queue = config.redisUrl ? new RedisDeliveryQueue(redisOptions(config.redisUrl), config.redisKeyPrefix) : new MemoryDeliveryQueue();
    const workerOptions: DeliveryWorkerOptions = {
      timeoutMs: config.events.deliveryTimeoutMs,
      concurrency: config.events.deliveryConcurrency,
      allowPrivateTargets: config.events.allowPrivateWebhookTargets,
      schedule: options.schedule ?? config.events.deliveryRetryScheduleMs,
      pausedRecheckMs: options.pausedRecheckMs ?? config.events.deliveryPausedRecheckMs,
    };
    const observer = metrics ? registerDeliveryMetrics(metrics, this.store, () => this.worker.attemptsInFlight) : undefined;
    this.worker = new DeliveryWorker(this.store, subscriptions, this.queue, workerOptions, observer);
    subscriptions.onResumed((id) => void this.wake(id).catch(() => undefined));
    this.reconciler = new DeliveryReconciler(this.store, this.queue, options.reconcileIntervalMs ?? RECONCILE_INTERVAL_MS, options.retentionMs ?? RETENTION_MS);
  }

  /** The publisher completes each payload when it is sent (a fresh study token: never stored). */
  setPayloadFinisher(finisher: PayloadFinisher): void {
    this.worker.finisher = finisher;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.releaseOrphans();
    this.worker.start();
    this.reconciler.start();
  }

  /** Workers stop before the events database is closed (EventsDatabaseModule, at shutdown). On a
   *  signal (graceful shutdown) the attempts under way finish; on a plain close they are aborted. */
  async beforeApplicationShutdown(signal?: string): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.reconciler.stop();
    await this.worker.close(signal !== undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.beforeApplicationShutdown();
  }

  /**
   * Records a delivery of `payload` (JSON object, already built, no PHI) for this subscription and
   * event, durably in SQLite, then queues it. Never throws because Redis is away (the reconciler
   * queues it later). Idempotent per (subscriptionId, event.id).
   */
  async enqueue(subscriptionId: string, event: StudyEvent, payload: Record<string, unknown>): Promise<void> {
    const { row } = this.store.insert(subscriptionId, event, payload);
    if (row.state === 'pending') await this.queueNow(row);
  }

  /** A subscription was resumed (or changed): its waiting deliveries look again now. */
  async wake(subscriptionId: string): Promise<void> {
    const rows = this.store.db
      .prepare(`SELECT id FROM deliveries WHERE subscription_id = ? AND state = 'pending' ORDER BY seq`)
      .all(subscriptionId) as { id: string }[];
    for (const r of rows) await this.queue.promote(r.id).catch(() => undefined);
  }

  /** A subscription's deliveries, newest first, each with its attempt log. 404 for an unknown subscription. */
  list(subscriptionId: string, limit = DEFAULT_LIST_LIMIT): DeliveryView[] {
    this.subscription(subscriptionId);
    const rows = this.store.list(subscriptionId, Math.max(1, Math.min(MAX_LIST_LIMIT, Math.floor(limit))));
    const attempts = this.store.attemptsOf(rows.map((r) => r.id));
    return rows.map((r) => view(r, attempts.get(r.id) ?? []));
  }

  get(subscriptionId: string, deliveryId: string): DeliveryView {
    this.subscription(subscriptionId);
    const row = this.store.get(deliveryId);
    if (!row || row.subscription_id !== subscriptionId) throw new NotFoundException(`no delivery "${deliveryId}" for subscription "${subscriptionId}"`);
    return view(row, this.store.attemptsOf([row.id]).get(row.id) ?? []);
  }

  /** A delivered or dead delivery goes again now (new round of retries; its log is kept); a pending one goes now. */
  async redeliver(subscriptionId: string, deliveryId: string): Promise<DeliveryView> {
    this.get(subscriptionId, deliveryId);
    const row = this.store.redeliver(deliveryId);
    if (!row) throw new ConflictException(`delivery "${deliveryId}" was cancelled`);
    await this.queueNow(row);
    await this.queue.promote(row.id).catch(() => undefined);
    return this.get(subscriptionId, deliveryId);
  }

  /** For tests and operators: one reconciler pass now. */
  reconcile(): Promise<number> {
    return this.reconciler.runOnce();
  }

  status(): { queue: string; redis: string; reconciler: unknown; inFlight: number } {
    return {
      queue: this.queue.kind,
      redis: this.queue.kind === 'memory' ? 'not used' : this.queue.ready ? 'connected' : 'unavailable',
      reconciler: this.reconciler.lastRun ?? null,
      inFlight: this.worker.attemptsInFlight,
    };
  }

  private subscription(id: string): void {
    if (!this.subscriptions.get(id)) throw new NotFoundException(`no subscription "${id}"`);
  }

  /** Queues a pending row; Redis away or slow only leaves it to the reconciler. */
  private async queueNow(row: DeliveryRow): Promise<void> {
    if (this.stopped) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ENQUEUE_TIMEOUT_MS)));
    try {
      await Promise.race([this.queue.add([{ id: row.id, at: row.next_attempt_at }]), timeout]);
    } catch (e) {
      this.logger.debug(`delivery ${row.id} not queued now (${(e as Error).message}); the reconciler will`);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Bounded: a Redis that is away at start must not hold the gateway's start up. */
  private async releaseOrphans(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), 3_000)));
    try {
      const result = await Promise.race([this.queue.releaseOrphans(), timeout]);
      if (typeof result === 'number' && result > 0) this.logger.log(`${result} delivery job(s) left in flight by a previous run are queued again`);
    } catch (e) {
      this.logger.warn(`cannot look for delivery jobs left in flight by a previous run: ${(e as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }
}

function view(r: DeliveryRow, attempts: AttemptRow[]): DeliveryView {
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return {
    id: r.id,
    subscriptionId: r.subscription_id,
    eventId: r.event_id,
    eventType: r.event_type,
    store: r.store,
    studyInstanceUid: r.study,
    state: r.state,
    attempts: r.attempts,
    nextAttemptAt: r.state === 'pending' ? iso(r.next_attempt_at) : null,
    createdAt: iso(r.created_at)!,
    updatedAt: iso(r.updated_at)!,
    deliveredAt: iso(r.delivered_at),
    lastStatus: r.last_status,
    lastError: r.last_error,
    attemptLog: attempts.map((a) => ({ attempt: a.attempt, startedAt: iso(a.started_at)!, durationMs: a.duration_ms, status: a.status, error: a.error })),
  };
}

function registerDeliveryMetrics(registry: Registry, store: DeliveryStore, inFlight: () => number) {
  const name = (n: string) => `dicomweb_gateway_webhook_${n}`;
  if (registry.getSingleMetric(name('attempts_total'))) return undefined; // already registered by another instance
  new Gauge({
    name: name('deliveries'),
    help: 'Webhook deliveries recorded, by state (pending, delivered, dead, cancelled)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const state of ['pending', 'delivered', 'dead', 'cancelled']) this.set({ state }, 0);
      for (const c of store.countsByState()) this.set({ state: c.state }, c.n);
    },
  });
  new Gauge({
    name: name('oldest_pending_seconds'),
    help: 'Age of the oldest webhook delivery not delivered yet',
    registers: [registry],
    collect() {
      const t = store.oldestPendingCreatedAt();
      this.set(t === undefined ? 0 : Math.round((Date.now() - t) / 1000));
    },
  });
  new Gauge({
    name: name('attempts_in_flight'),
    help: 'Webhook delivery attempts under way',
    registers: [registry],
    collect() {
      this.set(inFlight());
    },
  });
  const attempts = new Counter({ name: name('attempts_total'), help: 'Webhook delivery attempts, by outcome (delivered, failed, dead)', labelNames: ['outcome'], registers: [registry] });
  const duration = new Histogram({
    name: name('attempt_duration_seconds'),
    help: 'Duration of webhook delivery attempts',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  return {
    attempt(outcome: 'delivered' | 'failed' | 'dead', durationMs: number) {
      attempts.inc({ outcome });
      duration.observe(durationMs / 1000);
    },
  };
}
