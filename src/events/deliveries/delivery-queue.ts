/**
 * Where pending deliveries wait for their next attempt. A job is only a pointer to a row of
 * delivery-store.ts: job id = delivery id, data = { id }, so adding a job twice is a no-op.
 * The processor answers either "done" (undefined) or when to look again (ms since epoch); the
 * queue then keeps the job delayed until then. Retries are thus scheduled by the worker from
 * SQLite (next_attempt_at), never by the queue's own attempts/backoff.
 *
 * - RedisDeliveryQueue: one BullMQ queue `webhooks` under REDIS_KEY_PREFIX (gateways with REDIS_URL);
 *   jobs only added while Redis is connected, the reconciler adds what was skipped.
 * - MemoryDeliveryQueue: the same in process (no REDIS_URL); rebuilt from SQLite at start.
 */
import { DelayedError, Job, Queue, Worker } from 'bullmq';
import IORedis, { RedisOptions } from 'ioredis';
import { currentRequestId } from '../../logging/request-context';
import { runJob } from '../../logging/running-jobs';

export const WEBHOOK_QUEUE = 'webhooks';

export interface DeliveryJob {
  id: string;
  /** The request that caused the delivery (its log lines carry it); absent when the reconciler queued it. */
  requestId?: string;
}

/** undefined: done; a number: look again at this time. */
export type DeliveryProcessor = (id: string) => Promise<number | undefined>;

export interface DeliveryQueue {
  readonly kind: 'redis' | 'memory';
  /** Whether jobs can be added now. */
  readonly ready: boolean;
  /** Adds (idempotently) a job per delivery, delayed until `at`. Throws when the queue is away. */
  add(jobs: { id: string; at: number }[], now?: number): Promise<void>;
  /** A waiting job goes now (no-op when absent or running). */
  promote(id: string): Promise<void>;
  /** Starts processing; `onFinished` is told of each job that left the queue (done or failed). */
  start(processor: DeliveryProcessor, concurrency: number, onFinished: (id: string) => void): void;
  /** Jobs left active by a killed process: released, to be added again by the reconciler. */
  releaseOrphans(): Promise<number>;
  close(): Promise<void>;
}

export class QueueAway extends Error {}

export class RedisDeliveryQueue implements DeliveryQueue {
  readonly kind = 'redis';
  private readonly connection: IORedis;
  private readonly queue: Queue<DeliveryJob>;
  private worker?: Worker<DeliveryJob>;

  constructor(
    private readonly options: RedisOptions,
    private readonly prefix: string,
  ) {
    this.connection = new IORedis(options);
    this.connection.on('error', () => undefined); // reported by the reconciler
    this.queue = new Queue<DeliveryJob>(WEBHOOK_QUEUE, { connection: this.connection, prefix, skipVersionCheck: true });
    this.queue.on('error', () => undefined);
  }

  get ready(): boolean {
    return this.connection.status === 'ready';
  }

  async add(jobs: { id: string; at: number }[], now = Date.now()): Promise<void> {
    if (jobs.length === 0) return;
    if (!this.ready) throw new QueueAway(`Redis is not connected (${this.connection.status})`);
    const requestId = currentRequestId();
    await this.queue.addBulk(
      jobs.map((j) => ({
        name: 'deliver',
        data: { id: j.id, ...(requestId ? { requestId } : {}) },
        opts: { jobId: j.id, delay: Math.max(0, j.at - now), removeOnComplete: true, removeOnFail: true },
      })),
    );
  }

  async promote(id: string): Promise<void> {
    if (!this.ready) return;
    const job = await this.queue.getJob(id);
    if (job && (await job.isDelayed())) await job.promote().catch(() => undefined); // raced: it runs already
  }

  start(processor: DeliveryProcessor, concurrency: number, onFinished: (id: string) => void): void {
    this.worker = new Worker<DeliveryJob>(
      WEBHOOK_QUEUE,
      async (job: Job<DeliveryJob>, token?: string) => {
        const at = await runJob(`webhook delivery ${job.data.id}`, job.data.requestId, () => processor(job.data.id));
        if (at === undefined) return;
        await job.moveToDelayed(Math.max(at, Date.now() + 1), token);
        throw new DelayedError();
      },
      {
        connection: this.options as never,
        prefix: this.prefix,
        concurrency,
        // A job left active by a killed gateway is released at the next start (releaseOrphans);
        // a stalled job must never be failed for it either.
        maxStalledCount: 1_000_000,
        lockDuration: 30_000,
        skipVersionCheck: true,
      },
    );
    this.worker.on('error', () => undefined);
    this.worker.on('completed', (job) => onFinished(job.data.id));
    this.worker.on('failed', (job) => job && onFinished(job.data.id));
  }

  /**
   * One gateway owns its events.sqlite and its queue (one REDIS_KEY_PREFIX per data directory), so
   * at start every active job is an orphan of a process that died: its lock is dropped and the job
   * removed; the reconciler adds it again from SQLite.
   */
  async releaseOrphans(): Promise<number> {
    let released = 0;
    for (const job of await this.queue.getJobs(['active'])) {
      if (!job?.id) continue;
      await this.connection.del(`${this.queue.toKey(job.id)}:lock`);
      await job.remove().then(
        () => released++,
        () => undefined,
      );
    }
    return released;
  }

  /**
   * Stops taking jobs and waits for the attempts under way (callers abort them first). BullMQ's
   * close waits for Redis: with Redis away it would never end, so it is bounded then.
   */
  async close(): Promise<void> {
    const connected = this.ready;
    const bounded = (p: Promise<unknown> | undefined) =>
      connected ? p?.catch(() => undefined) : Promise.race([p?.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
    await bounded(this.worker?.close(!connected));
    await bounded(this.queue.close());
    this.connection.disconnect();
    if (!connected) await bounded(this.worker?.disconnect());
  }
}

/** The same contract in process, for gateways without Redis; SQLite keeps what it would lose. */
export class MemoryDeliveryQueue implements DeliveryQueue {
  readonly kind = 'memory';
  readonly ready = true;
  private readonly waiting = new Map<string, { at: number; timer?: NodeJS.Timeout }>();
  private readonly due: string[] = [];
  private readonly running = new Set<string>();
  /** The request that caused each job, kept across its retries. */
  private readonly requestIds = new Map<string, string>();
  private processor?: DeliveryProcessor;
  private concurrency = 1;
  private onFinished: (id: string) => void = () => undefined;
  private closed = false;
  private readonly idle = new Set<() => void>();

  async add(jobs: { id: string; at: number }[]): Promise<void> {
    const requestId = currentRequestId();
    for (const j of jobs) {
      if (this.waiting.has(j.id) || this.running.has(j.id)) continue;
      if (requestId) this.requestIds.set(j.id, requestId);
      this.schedule(j.id, j.at);
    }
  }

  async promote(id: string): Promise<void> {
    const w = this.waiting.get(id);
    if (!w || w.timer === undefined) return;
    clearTimeout(w.timer);
    this.waiting.delete(id);
    this.schedule(id, 0);
  }

  start(processor: DeliveryProcessor, concurrency: number, onFinished: (id: string) => void): void {
    this.processor = processor;
    this.concurrency = Math.max(1, concurrency);
    this.onFinished = onFinished;
    this.pump();
  }

  async releaseOrphans(): Promise<number> {
    return 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiting.values()) if (w.timer) clearTimeout(w.timer);
    this.waiting.clear();
    this.due.length = 0;
    this.requestIds.clear();
    if (this.running.size > 0) await new Promise<void>((resolve) => this.idle.add(resolve));
  }

  private schedule(id: string, at: number): void {
    if (this.closed) return;
    const delay = Math.max(0, at - Date.now());
    const entry: { at: number; timer?: NodeJS.Timeout } = { at };
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      this.due.push(id);
      this.pump();
    }, Math.min(delay, 2 ** 31 - 1));
    entry.timer.unref();
    this.waiting.set(id, entry);
  }

  private pump(): void {
    while (this.processor && !this.closed && this.running.size < this.concurrency && this.due.length > 0) {
      const id = this.due.shift()!;
      this.waiting.delete(id);
      this.running.add(id);
      const processor = this.processor;
      void runJob(`webhook delivery ${id}`, this.requestIds.get(id), () => processor(id))
        .then(
          (at) => at,
          () => Date.now() + 30_000, // unexpected: the worker logs its own errors; look again later
        )
        .then((at) => {
          this.running.delete(id);
          if (at !== undefined) this.schedule(id, at);
          else {
            this.requestIds.delete(id);
            this.onFinished(id);
          }
          if (this.running.size === 0) {
            for (const done of this.idle) done();
            this.idle.clear();
          }
          this.pump();
        });
    }
  }
}
