/**
 * Rebuilds the BullMQ queues from the outbox: every pending row gets its job again. Adding a job
 * whose id exists is a no-op, so this is safe to run at any time; it runs at start and then
 * periodically. It is what makes Redis a cache of the outbox: a Redis restarted empty, keys
 * deleted, or jobs that could not be added while Redis was away all come back here.
 */
import { Logger } from '@nestjs/common';
import { PeriodicPass } from '../common/periodic-pass';
import { ForwardQueues } from './forward-queues';
import { Outbox } from './outbox';

const PAGE = 1_000;

export class Reconciler {
  private readonly logger = new Logger('Forward reconciler');
  lastRun?: { at: Date; enqueued: number; error?: string };

  constructor(
    private readonly outbox: Outbox,
    private readonly queues: ForwardQueues,
    intervalMs: number,
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
    let after = { destination: '', sop: '' };
    try {
      for (;;) {
        const page = this.outbox.pendingAfter(after.destination, after.sop, PAGE);
        if (page.length === 0) break;
        await this.queues.enqueue(page);
        enqueued += page.length;
        const last = page[page.length - 1];
        after = { destination: last.destination, sop: last.sop_instance_uid };
      }
      this.lastRun = { at: new Date(), enqueued };
      return enqueued;
    } catch (e) {
      const error = (e as Error).message;
      if (this.lastRun?.error !== error) this.logger.warn(`cannot rebuild the forwarding queues now, will retry: ${error}`);
      this.lastRun = { at: new Date(), enqueued, error };
      return enqueued;
    }
  }
}
