/**
 * Frees the spool of instances every destination has confirmed, as the destinations' retention
 * policies allow; never an instance one destination still waits for, and never one that was not
 * routed anywhere (the spool is then its only home). An instance goes only when every destination
 * that took it allows it: "delete after confirmed" at once, "keep N days" N days after the last
 * confirmation, "disk watermark" only while the spool's disk has less free space than asked, the
 * oldest confirmed first; "keep" never.
 */
import { Logger } from '@nestjs/common';
import { PeriodicPass } from '../common/periodic-pass';
import { statfs } from 'node:fs/promises';
import { EdgeDestinationConfig } from '../config/edge-config';
import { LocalStore } from '../stores/local/local-store';
import { Outbox } from './outbox';

const DAY_MS = 24 * 60 * 60 * 1000;
const PAGE = 500;

interface Candidate {
  sop_instance_uid: string;
  last_delivered: number;
  size: number;
}

export class Retention {
  private readonly logger = new Logger('Spool retention');
  private readonly policies: Map<string, EdgeDestinationConfig['retention']>;
  private readonly periodic: PeriodicPass<number>;
  lastRun?: { at: Date; released: number; error?: string };

  constructor(
    private readonly spool: LocalStore,
    private readonly outbox: Outbox,
    destinations: EdgeDestinationConfig[],
    intervalMs: number,
  ) {
    this.policies = new Map(destinations.map((d) => [d.store, d.retention]));
    this.periodic = new PeriodicPass(() => this.pass(), intervalMs);
  }

  start(): void {
    this.periodic.start(false);
  }

  stop(): Promise<void> {
    return this.periodic.stop();
  }

  /** One pass now (a pass under way is joined). */
  runOnce(): Promise<number> {
    return this.periodic.runOnce();
  }

  private async pass(): Promise<number> {
    const now = Date.now();
    let released = 0;
    try {
      let freeBytes = await this.freeBytes();
      const seen = new Set<string>();
      for (;;) {
        const page = this.candidates(PAGE, seen);
        if (page.length === 0) break;
        for (const candidate of page) {
          seen.add(candidate.sop_instance_uid);
          if (!this.allowed(candidate, now, freeBytes)) continue;
          if (await this.spool.deleteInstance(candidate.sop_instance_uid)) freeBytes += candidate.size;
          this.outbox.markReleased(candidate.sop_instance_uid, now);
          released++;
        }
        if (page.length < PAGE) break;
      }
      if (released > 0) this.logger.log(`released ${released} confirmed instance${released === 1 ? '' : 's'} from the spool`);
      this.lastRun = { at: new Date(), released };
    } catch (e) {
      this.logger.error(`retention pass failed: ${(e as Error).message}`);
      this.lastRun = { at: new Date(), released, error: (e as Error).message };
    }
    return released;
  }

  /** Every destination holding the instance must allow its removal now. */
  private allowed(candidate: Candidate, now: number, freeBytes: number): boolean {
    const rows = this.outbox.rowsOfInstance(candidate.sop_instance_uid);
    return rows.every((row) => {
      const policy = this.policies.get(row.destination) ?? { mode: 'keep' };
      switch (policy.mode) {
        case 'delete-after-confirmed':
          return true;
        case 'keep-days':
          return now - (row.delivered_at ?? now) >= policy.days * DAY_MS;
        case 'disk-watermark':
          return freeBytes < policy.minFreeBytes;
        case 'keep':
          return false;
      }
    });
  }

  private candidates(limit: number, seen: Set<string>): Candidate[] {
    return this.outbox.fullyDelivered(limit + seen.size).filter((c) => !seen.has(c.sop_instance_uid)).slice(0, limit);
  }

  private async freeBytes(): Promise<number> {
    const stats = await statfs(this.spool.root);
    return stats.bavail * stats.bsize;
  }
}
