/**
 * The BullMQ side of forwarding: two queues per destination, derived from the outbox.
 * - `stat`: STAT instances only, with its own workers (EdgeDestinationConfig.statConcurrency), so a
 *   STAT instance never waits behind routine uploads already in flight;
 * - `routine`: the rest, ordered by BullMQ priority (HIGH before ROUTINE before LOW).
 * A job is only a pointer: { destination, sop, study }, job id "<destination>|<SOP Instance UID>"
 * (BullMQ ids may not contain ':'), so adding a job twice is a no-op. Jobs are removed when done
 * or failed: what happened is recorded in the outbox, and the reconciler may add the job again.
 *
 * Jobs are only added while Redis is connected (an upload must never wait on Redis, and commands
 * queued for an absent Redis would pile up in memory); the reconciler adds what was skipped.
 */
import { JobsOptions, Queue } from 'bullmq';
import IORedis, { RedisOptions } from 'ioredis';
import { currentRequestId } from '../logging/request-context';
import { PendingKey } from './outbox';

export const STAT_RANK = 0;

export interface ForwardJob {
  destination: string;
  sop: string;
  study: string;
  /** The request that caused the job (a STOW), for its log lines and upstream calls; absent when
   *  the reconciler queued it. */
  requestId?: string;
}

export type Lane = 'stat' | 'routine';

export function laneOf(priority: number): Lane {
  return priority === STAT_RANK ? 'stat' : 'routine';
}

export function jobId(destination: string, sop: string): string {
  return `${destination}|${sop}`;
}

export function queueName(destination: string, lane: Lane): string {
  return `forward-${lane}-${destination}`;
}

export class RedisAway extends Error {}

export class ForwardQueues {
  private readonly queues = new Map<string, Queue<ForwardJob>>();
  readonly connection: IORedis;

  constructor(
    private readonly options: RedisOptions,
    private readonly prefix: string,
    destinations: string[],
  ) {
    this.connection = new IORedis(options);
    // Errors are reported by the reconciler and health; ioredis would otherwise print each retry.
    this.connection.on('error', () => undefined);
    for (const destination of destinations) {
      for (const lane of ['stat', 'routine'] as Lane[]) {
        const queue = new Queue<ForwardJob>(queueName(destination, lane), { connection: this.connection, prefix: prefix, skipVersionCheck: true });
        queue.on('error', () => undefined);
        this.queues.set(queueName(destination, lane), queue);
      }
    }
  }

  queue(destination: string, lane: Lane): Queue<ForwardJob> {
    const queue = this.queues.get(queueName(destination, lane));
    if (!queue) throw new Error(`no forwarding queue for destination "${destination}"`);
    return queue;
  }

  /** Adds (idempotently) a job for each pending key, in its lane, delayed until it is due. */
  async enqueue(keys: PendingKey[], now = Date.now()): Promise<void> {
    if (keys.length === 0) return;
    if (!this.redisReady) throw new RedisAway(`Redis is not connected (${this.connection.status})`);
    const requestId = currentRequestId();
    const byQueue = new Map<Queue<ForwardJob>, { name: string; data: ForwardJob; opts: JobsOptions }[]>();
    for (const key of keys) {
      const lane = laneOf(key.priority);
      const queue = this.queue(key.destination, lane);
      const list = byQueue.get(queue) ?? [];
      list.push({
        name: 'forward',
        data: { destination: key.destination, sop: key.sop_instance_uid, study: key.study_instance_uid, ...(requestId ? { requestId } : {}) },
        opts: {
          jobId: jobId(key.destination, key.sop_instance_uid),
          // 1 HIGH, 2 ROUTINE, 3 LOW; STAT has its own queue, first in first out.
          priority: lane === 'routine' ? key.priority : undefined,
          delay: Math.max(0, key.next_attempt_at - now),
          removeOnComplete: true,
          removeOnFail: true,
        },
      });
      byQueue.set(queue, list);
    }
    await Promise.all([...byQueue].map(([queue, jobs]) => queue.addBulk(jobs)));
  }

  /**
   * Jobs left active by a gateway that died (SIGKILL, power loss) keep their lock until it
   * expires, and BullMQ's stalled check needs two more rounds to bring them back: a STAT instance
   * would wait a minute. One gateway owns its spool and its queues (one REDIS_KEY_PREFIX per spool),
   * so at start every active job is an orphan: its lock is dropped and the job removed; the
   * reconciler adds it again from the outbox. Returns how many.
   */
  async releaseOrphans(): Promise<number> {
    let released = 0;
    for (const queue of this.queues.values()) {
      for (const job of await queue.getJobs(['active'])) {
        if (!job?.id) continue;
        await this.connection.del(`${queue.toKey(job.id)}:lock`);
        await job.remove().then(
          () => released++,
          () => undefined, // taken by a live worker after all: leave it
        );
      }
    }
    return released;
  }

  /** Whether Redis answers now (for /api/forwarding and the reconciler's log). */
  get redisReady(): boolean {
    return this.connection.status === 'ready';
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close().catch(() => undefined)));
    this.connection.disconnect();
  }

  get workerConnectionOptions(): RedisOptions {
    return this.options;
  }

  get keyPrefix(): string {
    return this.prefix;
  }
}
