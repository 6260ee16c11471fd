/**
 * Rebuilds the delivery queue from SQLite: every pending delivery gets its job again, delayed
 * until its next_attempt_at. Adding a job that exists is a no-op, so this runs at start and then
 * periodically; a Redis restarted empty, deleted keys, or deliveries recorded while Redis was away
 * all come back here. It also forgets finished deliveries older than the retention.
 */
import { Logger } from '@nestjs/common';
import { DeliveryQueue } from './delivery-queue';
import { DeliveryStore } from './delivery-store';

const PAGE = 1_000;

export class DeliveryReconciler {
  private readonly logger = new Logger('Webhook reconciler');
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;
  lastRun?: { at: Date; enqueued: number; pruned: number; error?: string };

  constructor(
    private readonly store: DeliveryStore,
    private readonly queue: DeliveryQueue,
    private readonly intervalMs: number,
    /** Delivered, dead and cancelled deliveries are kept this long after their last change. */
    private readonly retentionMs: number,
  ) {}

  start(): void {
    void this.runOnce();
    this.timer = setInterval(() => void this.runOnce(), this.intervalMs);
    this.timer.unref();
  }

  /** One pass (a pass under way is joined, not doubled); returns how many deliveries were queued. */
  runOnce(): Promise<number> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => undefined);
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
