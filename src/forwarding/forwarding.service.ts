/**
 * Edge store-and-forward, assembled from the config's `edge` section: the spool's outbox writer,
 * one forwarder per destination, the reconciler and retention. Absent `edge`, nothing starts and
 * the operator API says so.
 */
import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { GATEWAY_CONFIG } from '../config/config.module';
import { EdgeConfig } from '../config/edge-config';
import { GatewayConfig } from '../config/gateway-config';
import { Registry } from 'prom-client';
import { METRICS } from '../metrics/metrics.module';
import { registerForwardingMetrics } from './forwarding-metrics';
import { PRIORITY_LEVELS } from '../dicom/priority';
import { LocalStore } from '../stores/local/local-store';
import { StoreRegistry } from '../stores/registry';
import { NotFound } from '../stores/store-errors';
import { DestinationForwarder } from './destination-forwarder';
import { ForwardQueues } from './forward-queues';
import { redisOptions } from '../config/redis-options';
import { Outbox, OutboxRow, PendingKey } from './outbox';
import { OutboxWriter } from './outbox-writer';
import { Reconciler } from './reconciler';
import { Retention } from './retention';

/** 404: no edge section, or not one of its destinations. */
export class ForwardingNotConfigured extends NotFound {}

/** Throughput is reported over this window. */
const THROUGHPUT_WINDOW_MS = 5 * 60_000;

export interface DestinationStatus {
  destination: string;
  pending: { priority: string; instances: number; bytes: number; oldestAgeSeconds: number }[];
  pendingInstances: number;
  pendingBytes: number;
  oldestPendingAgeSeconds: number | null;
  inFlight: number;
  failed: number;
  circuit: string;
  pausedUntil: string | null;
  pauseReason: string | null;
  throughput: { windowSeconds: number; instances: number; bytesPerSecond: number };
}

@Injectable()
export class ForwardingService implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('Forward');
  private readonly edge?: EdgeConfig;
  private outbox?: Outbox;
  private readonly forwardedListeners: ((spool: string, study: string) => void)[] = [];
  private queues?: ForwardQueues;
  private forwarders: DestinationForwarder[] = [];
  private reconciler?: Reconciler;
  private retention?: Retention;

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    private readonly stores: StoreRegistry,
    @Inject(METRICS) metrics: Registry,
  ) {
    this.edge = config.edge;
    if (!this.edge) return;
    // Wired at construction, before the HTTP server accepts the first upload.
    const spool = this.stores.get(this.edge.spool);
    if (!(spool instanceof LocalStore)) throw new Error(`edge.spool: store "${this.edge.spool}" is not a local store`);
    this.outbox = new Outbox(spool.index.db);
    this.queues = new ForwardQueues(redisOptions(config.redisUrl), config.redisKeyPrefix, this.edge.destinations.map((d) => d.store));
    spool.addIndexParticipant(new OutboxWriter(this.edge, this.outbox, this.queues));
    this.forwarders = this.edge.destinations.map(
      (d) =>
        new DestinationForwarder(d, this.stores.get(d.store), spool, this.outbox!, this.queues!, config.inlineBinaryThreshold, (study) => {
          if (this.outbox!.studyDelivered(study)) for (const listener of this.forwardedListeners) listener(this.edge!.spool, study);
        }),
    );
    this.reconciler = new Reconciler(this.outbox, this.queues, this.edge.reconcileIntervalMs);
    this.retention = new Retention(spool, this.outbox, this.edge.destinations, this.edge.retentionIntervalMs);
    registerForwardingMetrics(metrics, this);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.edge) return;
    await this.releaseOrphans();
    for (const f of this.forwarders) f.start();
    this.reconciler!.start();
    this.retention!.start();
    this.logger.log(`forwarding from "${this.edge.spool}" to ${this.edge.destinations.map((d) => `"${d.store}"`).join(', ')}`);
  }

  /** Bounded: a Redis that is away at start must not hold the gateway's start up. */
  private async releaseOrphans(): Promise<void> {
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 3_000).unref());
    try {
      const result = await Promise.race([this.queues!.releaseOrphans(), timeout]);
      if (typeof result === 'number' && result > 0) this.logger.log(`${result} job(s) left in flight by a previous run are queued again`);
    } catch (e) {
      this.logger.warn(`cannot look for jobs left in flight by a previous run: ${(e as Error).message}`);
    }
  }

  /** Workers finish their current jobs while the events database is still open (a study whose
   *  last instance is delivered becomes a `forwarded` event), before any module closes. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.reconciler?.stop();
    await this.retention?.stop();
    await Promise.all(this.forwarders.map((f) => f.close()));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queues?.close();
  }

  status(now = Date.now()): { spool: string; redis: string; reconciler: unknown; retention: unknown; destinations: DestinationStatus[] } {
    const { edge, outbox } = this.configured();
    return {
      spool: edge.spool,
      redis: this.queues!.redisReady ? 'connected' : 'unavailable',
      reconciler: this.reconciler!.lastRun ?? null,
      retention: this.retention!.lastRun ?? null,
      destinations: this.forwarders.map((f) => {
        const name = f.destination.name;
        const pending = outbox.pendingByPriority(name).map((p) => ({
          priority: PRIORITY_LEVELS[p.priority] ?? String(p.priority),
          instances: p.instances,
          bytes: p.bytes,
          oldestAgeSeconds: Math.max(0, Math.round((now - p.oldest) / 1000)),
        }));
        const oldest = outbox.oldestPending(name);
        const recent = outbox.deliveredSince(name, now - THROUGHPUT_WINDOW_MS);
        const paused = f.pausedUntil;
        return {
          destination: name,
          pending,
          pendingInstances: pending.reduce((n, p) => n + p.instances, 0),
          pendingBytes: pending.reduce((n, p) => n + p.bytes, 0),
          oldestPendingAgeSeconds: oldest === undefined ? null : Math.round((now - oldest) / 1000),
          inFlight: f.inFlight,
          failed: outbox.failedCount(name),
          circuit: f.destination.health().circuit ?? 'none',
          pausedUntil: paused ? new Date(paused.until).toISOString() : null,
          pauseReason: paused?.reason ?? null,
          throughput: { windowSeconds: THROUGHPUT_WINDOW_MS / 1000, instances: recent.instances, bytesPerSecond: Math.round(recent.bytes / (THROUGHPUT_WINDOW_MS / 1000)) },
        };
      }),
    };
  }

  studyRows(study: string): { priority: { level: string; reasons: string[] } | null; rows: OutboxRow[] } {
    const { outbox } = this.configured();
    const priority = outbox.studyPriority(study);
    return { priority: priority ? { level: PRIORITY_LEVELS[priority.priority], reasons: priority.reasons } : null, rows: outbox.studyRows(study) };
  }

  /** Parked instances back into the queue, by study, destination or all. */
  async retry(filter: { study?: string; destination?: string }): Promise<{ requeued: number; queued: boolean }> {
    const { edge, outbox } = this.configured();
    if (filter.destination && !edge.destinations.some((d) => d.store === filter.destination)) {
      throw new ForwardingNotConfigured(`"${filter.destination}" is not a forwarding destination`);
    }
    const rows: PendingKey[] = outbox.retryFailed(filter);
    let queued = true;
    try {
      await this.queues!.enqueue(rows);
    } catch {
      queued = false; // the rows are pending again: the reconciler queues them when Redis is back
    }
    return { requeued: rows.length, queued };
  }

  /** For tests and operators: one reconciler pass now. */
  reconcile(): Promise<number> {
    this.configured();
    return this.reconciler!.runOnce();
  }

  /** For tests and operators: one retention pass now. */
  applyRetention(): Promise<number> {
    this.configured();
    return this.retention!.runOnce();
  }

  /** Called whenever every instance of a study has been confirmed by all its destinations. */
  onStudyForwarded(listener: (spool: string, study: string) => void): void {
    this.forwardedListeners.push(listener);
  }

  get enabled(): boolean {
    return this.edge !== undefined;
  }

  private configured(): { edge: EdgeConfig; outbox: Outbox } {
    if (!this.edge || !this.outbox) throw new ForwardingNotConfigured('edge forwarding is not configured on this gateway (YAML `edge`)');
    return { edge: this.edge, outbox: this.outbox };
  }
}
