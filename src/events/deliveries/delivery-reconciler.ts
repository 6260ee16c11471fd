/**
 * Rebuilds the delivery queue from SQLite: every pending delivery gets its job again, delayed
 * until its next_attempt_at. Adding a job that exists is a no-op, so this runs at start and then
 * periodically; a Redis restarted empty, deleted keys, or deliveries recorded while Redis was away
 * all come back here. It also forgets finished deliveries older than the retention.
 */
import { Logger } from '@nestjs/common';
import { PeriodicPass } from '../../common/periodic-pass';
import { DeliveryQueue } from './delivery-queue';
import { DeliveryStore } from './delivery-store';

const PAGE = 1_000;

export class DeliveryReconciler {
  private readonly logger = new Logger('Webhook reconciler');
  lastRun?: { at: Date; enqueued: number; pruned: number; error?: string };

  constructor(
    private readonly store: DeliveryStore,
    private readonly queue: DeliveryQueue,
    intervalMs: number,
    /** Delivered, dead and cancelled deliveries are kept this long after their last change. */
    private readonly retentionMs: number,
  ) {
    this.periodic = new PeriodicPass(() => this.pass(), intervalMs);
  }

  private readonly periodic: PeriodicPass<number>;

  start(): void {
    this.periodic.start(true);
  }

  /** One pass now (a pass under way is joined, not doubled). */
  runOnce(): Promise<number> {
    return this.periodic.runOnce();
  }

  stop(): Promise<void> {
    return this.periodic.stop();
  }

  private async pass(): Promise<number> {
    let enqueued = 0;
    let pruned = 0;
    try {
      pruned = this.store.prune(Date.now() - this.retentionMs);
      let after = 0;
      for (;;) {
        const page = this.store.pendingAfter(after, PAGE);
        if (page.length === 0) break;
        await this.queue.add(page.map((r) => ({ id: r.id, at: r.next_attempt_at })));
        enqueued += page.length;
        after = page[page.length - 1].seq;
      }
      if (this.lastRun?.error) this.logger.log('webhook delivery queue rebuilt');
      this.lastRun = { at: new Date(), enqueued, pruned };
    } catch (e) {
      const error = (e as Error).message;
      if (this.lastRun?.error !== error) this.logger.warn(`cannot rebuild the webhook delivery queue now, will retry: ${error}`);
      this.lastRun = { at: new Date(), enqueued, pruned, error };
    }
    return enqueued;
  }
}
