/**
 * Forwarding to one destination: the BullMQ workers of its two lanes and what a job does.
 *
 * A job names one instance; its worker sends that instance together with the other due instances
 * of the same study and at least the same priority (up to the batch size; STAT in small batches),
 * in one STOW request, and records each instance's outcome in the outbox:
 * - stored, or already there with the same bytes: delivered;
 * - already there with other bytes (InstanceConflict): parked as failed with the reason, at once;
 * - refused otherwise: retried with exponential backoff and jitter, parked after maxAttempts;
 * - the destination unreachable (connection refused, timeout, circuit open): no attempt is used
 *   up; the destination is paused with a growing delay and the job waits for it. An hour-long
 *   outage parks nothing.
 * Jobs of instances already in flight in another batch, or not due yet, are moved back to the
 * delayed set (BullMQ DelayedError), never processed twice at once: claims are kept in memory,
 * since one gateway process owns its spool.
 */
import { Logger } from '@nestjs/common';
import { ConnectionOptions, DelayedError, Job, Worker } from 'bullmq';
import { EdgeDestinationConfig } from '../config/edge-config';
import { DicomStore, IncomingInstance } from '../stores/dicom-store';
import { InstanceConflict, UpstreamTimeout, UpstreamUnavailable } from '../stores/store-errors';
import { storeAll } from '../stores/store-batch';
import { LocalStore } from '../stores/local/local-store';
import { runJob } from '../logging/running-jobs';
import { ForwardJob, ForwardQueues, Lane, queueName, STAT_RANK } from './forward-queues';
import { Outbox, OutboxRow } from './outbox';
import { openSpoolInstance, SpoolInstanceGone } from './spool-instance';

/** STAT goes out at once, in small batches: a 50-instance STAT study is not one long request. */
const STAT_BATCH = 5;
/** How long routine work waits behind STAT work that is due, or after a pause, before looking again. */
const ROUTINE_AFTER_STAT_MS = 250;
/** How long a job whose instance is in another batch waits before looking again. */
const CLAIMED_RECHECK_MS = 1_000;

export class DestinationForwarder {
  private readonly logger: Logger;
  private readonly workers: Worker<ForwardJob>[] = [];
  /** SOP Instance UIDs being sent right now. */
  private readonly claims = new Set<string>();
  private outage = { failures: 0, until: 0, reason: '' };
  inFlight = 0;
  private closing = false;
  private readonly sleepers = new Set<() => void>();

  constructor(
    private readonly config: EdgeDestinationConfig,
    readonly destination: DicomStore,
    private readonly spool: LocalStore,
    private readonly outbox: Outbox,
    private readonly queues: ForwardQueues,
    private readonly inlineBinaryThreshold: number,
    /** Told of each study of which instances were just delivered (the study may be complete). */
    private readonly onDelivered: (study: string) => void = () => undefined,
  ) {
    this.logger = new Logger(`Forward ${config.store}`);
  }

  start(): void {
    for (const [lane, concurrency] of [
      ['stat', this.config.statConcurrency],
      ['routine', this.config.routineConcurrency],
    ] as [Lane, number][]) {
      // Each job runs under the id of the request that caused it: its log lines and the upstream STOW carry it.
      const processor = (job: Job<ForwardJob>, token?: string) => runJob(`forward ${job.data.sop} to ${this.config.store}`, job.data.requestId, () => this.process(job, token, lane));
      const worker = new Worker<ForwardJob>(queueName(this.config.store, lane), processor, {
        connection: this.queues.workerConnectionOptions as ConnectionOptions,
        prefix: this.queues.keyPrefix,
        concurrency,
        // A job left active by a killed gateway is released at the next start
        // (ForwardQueues.releaseOrphans); stalled jobs must never be failed for it either.
        maxStalledCount: 1_000_000,
        lockDuration: 30_000,
        skipVersionCheck: true,
      });
      worker.on('error', (e) => this.logger.debug(`worker: ${e.message}`));
      this.workers.push(worker);
    }
  }

  /** The destination's pause after it was unreachable, if any. */
  get pausedUntil(): { until: number; reason: string } | undefined {
    return this.outage.until > Date.now() ? { until: this.outage.until, reason: this.outage.reason } : undefined;
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const wake of this.sleepers) wake();
    await Promise.all(this.workers.map((w) => w.close().catch(() => undefined)));
  }

  /** Waits `ms` unless the forwarder closes first (false then). */
  private idle(ms: number): Promise<boolean> {
    if (this.closing) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve(!this.closing);
      };
      const timer = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }

  private async process(job: Job<ForwardJob>, token: string | undefined, lane: Lane): Promise<void> {
    const { sop, study } = job.data;
    let row: OutboxRow | undefined;
    for (;;) {
      row = this.outbox.get(this.config.store, sop);
      if (!row || row.state !== 'pending') return; // delivered, parked, or retried under another job
      if (lane === 'routine' && row.priority === STAT_RANK) {
        // The study became STAT after this job was queued: the STAT lane takes it.
        await this.queues.enqueue([{ ...row, next_attempt_at: 0 }]);
        return;
      }
      const now = Date.now();
      if (this.claims.has(sop)) return this.later(job, token, now + CLAIMED_RECHECK_MS);
      if (row.next_attempt_at > now) return this.later(job, token, row.next_attempt_at);
      // The two waits below hold the job, and so one worker slot, instead of pushing it back to
      // Redis: the workers would otherwise cycle through every waiting job of the backlog again and
      // again, spending the CPU that the STAT upload needs.
      let wait = 0;
      if (this.outage.until > now) {
        // STAT probes the destination first when the pause ends; routine follows a little later.
        wait = this.outage.until - now + (lane === 'stat' ? 0 : ROUTINE_AFTER_STAT_MS + Math.floor(Math.random() * 500));
      } else if (lane === 'routine' && this.outbox.hasDueStat(this.config.store, now)) {
        wait = ROUTINE_AFTER_STAT_MS; // routine yields the destination while STAT is due
      }
      if (wait === 0) break;
      if (!(await this.idle(wait))) return this.later(job, token, Date.now()); // closing
    }

    const batch = this.claimBatch(row, study, lane);
    this.inFlight += batch.length;
    let ownRetryAt: number | undefined;
    try {
      ownRetryAt = await this.send(batch, sop);
    } catch (e) {
      if (!isOutage(e)) throw e;
      const until = this.pause(e as Error);
      return this.later(job, token, until);
    } finally {
      for (const r of batch) this.claims.delete(r.sop_instance_uid);
      this.inFlight -= batch.length;
    }
    if (ownRetryAt !== undefined) return this.later(job, token, ownRetryAt);
  }

  private claimBatch(row: OutboxRow, study: string, lane: Lane): OutboxRow[] {
    const limit = lane === 'stat' ? Math.min(STAT_BATCH, this.config.batchSize) : this.config.batchSize;
    const due = this.outbox.dueOfStudy(this.config.store, study, row.priority, limit + this.claims.size);
    const batch = [row, ...due.filter((r) => r.sop_instance_uid !== row.sop_instance_uid && !this.claims.has(r.sop_instance_uid))].slice(0, limit);
    for (const r of batch) this.claims.add(r.sop_instance_uid);
    return batch;
  }

  /** Sends a batch and records every outcome; returns when the job's own instance is due again. */
  private async send(batch: OutboxRow[], ownSop: string): Promise<number | undefined> {
    const opened: { row: OutboxRow; instance: IncomingInstance }[] = [];
    for (const row of batch) {
      try {
        opened.push({ row, instance: await openSpoolInstance(this.spool, row.sop_instance_uid, this.inlineBinaryThreshold) });
      } catch (e) {
        if (!(e instanceof SpoolInstanceGone)) throw e;
        this.outbox.markFailed(this.config.store, row.sop_instance_uid, row.attempts, e.message);
        this.logger.error(e.message);
      }
    }
    if (opened.length === 0) return undefined;
    const results = await storeAll(
      this.destination,
      opened.map((o) => o.instance),
    );
    if (this.outage.failures > 0) {
      this.logger.log('destination reachable again, forwarding resumed');
      // STAT jobs paused by the outage go now rather than when their delay ends.
      void this.queues.queue(this.config.store, 'stat').promoteJobs().catch(() => undefined);
    }
    this.outage = { failures: 0, until: 0, reason: '' };
    let ownRetryAt: number | undefined;
    // One transaction for the batch's outcomes: one WAL sync instead of one per instance.
    this.outbox.db.transaction(() => results.forEach((result, i) => {
      const { row } = opened[i];
      const sop = row.sop_instance_uid;
      if (result.ok) {
        this.outbox.markDelivered(this.config.store, sop, result.outcome.kind);
        return;
      }
      const attempts = row.attempts + 1;
      const reason = result.error.message;
      if (result.error instanceof InstanceConflict) {
        this.outbox.markFailed(this.config.store, sop, attempts, reason);
        this.logger.error(`instance ${sop} parked: ${reason}`);
      } else if (attempts >= this.config.maxAttempts) {
        this.outbox.markFailed(this.config.store, sop, attempts, `${reason} (after ${attempts} attempts)`);
        this.logger.error(`instance ${sop} parked after ${attempts} attempts: ${reason}`);
      } else {
        const at = Date.now() + this.backoff(attempts);
        this.outbox.markRetry(this.config.store, sop, attempts, at, reason);
        if (sop === ownSop) ownRetryAt = at;
        this.logger.warn(`instance ${sop} refused (attempt ${attempts} of ${this.config.maxAttempts}): ${reason}`);
      }
    }))();
    const studies = new Set(results.flatMap((result, i) => (result.ok ? [opened[i].row.study_instance_uid] : [])));
    for (const study of studies) this.onDelivered(study);
    return ownRetryAt;
  }

  /** The destination is unreachable: pause it, longer each time, until one send succeeds. */
  private pause(e: Error): number {
    this.outage.failures++;
    this.outage.reason = e.message;
    this.outage.until = Math.max(this.outage.until, Date.now() + this.backoff(this.outage.failures));
    if (this.outage.failures === 1) this.logger.warn(`destination unreachable, forwarding paused: ${e.message}`);
    return this.outage.until;
  }

  /** Exponential, with "equal jitter": at least half the step, so retries never come at once. */
  private backoff(attempt: number): number {
    const step = Math.min(this.config.backoff.maxDelayMs, this.config.backoff.baseDelayMs * 2 ** (attempt - 1));
    return Math.floor(step / 2 + (Math.random() * step) / 2);
  }

  private async later(job: Job<ForwardJob>, token: string | undefined, at: number): Promise<never> {
    await job.moveToDelayed(Math.max(at, Date.now() + 1), token);
    throw new DelayedError();
  }
}

function isOutage(e: unknown): boolean {
  return e instanceof UpstreamUnavailable || e instanceof UpstreamTimeout;
}
