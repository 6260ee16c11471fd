/**
 * The outbox tables of the spool (outbox-schema.ts): what must still be forwarded where, and what
 * happened to it. Every write here is synchronous SQLite, so `record` can run inside the embedded
 * store's indexing transaction and commit or fail with it.
 */
import type { Database, Statement } from 'better-sqlite3';
import { migrateOutbox } from './outbox-schema';

export type ForwardState = 'pending' | 'delivered' | 'failed';

export interface OutboxRow {
  destination: string;
  sop_instance_uid: string;
  study_instance_uid: string;
  series_instance_uid: string;
  priority: number;
  size: number;
  state: ForwardState;
  attempts: number;
  last_error: string | null;
  next_attempt_at: number;
  outcome: string | null;
  created_at: number;
  updated_at: number;
  delivered_at: number | null;
  released_at: number | null;
}

export interface IncomingForward {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  size: number;
  /** Rank of the instance's own priority (0 STAT ... 3 LOW). */
  priority: number;
  reasons: string[];
  destinations: string[];
}

export interface Recorded {
  /** The study's priority after this instance (never lower than the instance's). */
  studyPriority: number;
  /** The study was raised by this instance: its pending rows were raised too. */
  raised: boolean;
}

export interface PriorityCount {
  priority: number;
  instances: number;
  bytes: number;
  /** created_at of the oldest (milliseconds). */
  oldest: number;
}

export class Outbox {
  private readonly s: Record<string, Statement>;

  constructor(readonly db: Database) {
    migrateOutbox(db);
    this.s = {
      study: db.prepare('SELECT priority, reasons FROM forward_studies WHERE study_instance_uid = ?'),
      insertStudy: db.prepare('INSERT INTO forward_studies (study_instance_uid, priority, reasons, first_seen) VALUES (?, ?, ?, ?)'),
      raiseStudy: db.prepare('UPDATE forward_studies SET priority = ?, reasons = ? WHERE study_instance_uid = ?'),
      raisePending: db.prepare(
        "UPDATE forward_outbox SET priority = ?, updated_at = ? WHERE study_instance_uid = ? AND state = 'pending' AND priority > ?",
      ),
      // An instance stored again after retention released it is forwarded again: the destination
      // then confirms the same bytes, or the instance is parked as a conflict.
      insertRow: db.prepare(`
        INSERT INTO forward_outbox (destination, sop_instance_uid, study_instance_uid, series_instance_uid,
          priority, size, state, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)
        ON CONFLICT (destination, sop_instance_uid) DO UPDATE SET
          state = 'pending', priority = excluded.priority, size = excluded.size, attempts = 0, last_error = NULL,
          next_attempt_at = 0, outcome = NULL, delivered_at = NULL, released_at = NULL, updated_at = excluded.updated_at
        WHERE released_at IS NOT NULL`),
      get: db.prepare('SELECT * FROM forward_outbox WHERE destination = ? AND sop_instance_uid = ?'),
      batch: db.prepare(`
        SELECT * FROM forward_outbox
        WHERE destination = ? AND study_instance_uid = ? AND state = 'pending' AND next_attempt_at <= ? AND priority <= ?
        ORDER BY priority, created_at, sop_instance_uid LIMIT ?`),
      delivered: db.prepare(`
        UPDATE forward_outbox SET state = 'delivered', outcome = ?, last_error = NULL, delivered_at = ?, updated_at = ?
        WHERE destination = ? AND sop_instance_uid = ?`),
      retry: db.prepare(`
        UPDATE forward_outbox SET attempts = ?, next_attempt_at = ?, last_error = ?, updated_at = ?
        WHERE destination = ? AND sop_instance_uid = ? AND state = 'pending'`),
      failed: db.prepare(`
        UPDATE forward_outbox SET state = 'failed', attempts = ?, last_error = ?, updated_at = ?
        WHERE destination = ? AND sop_instance_uid = ?`),
      pendingPage: db.prepare(`
        SELECT destination, sop_instance_uid, study_instance_uid, priority, next_attempt_at FROM forward_outbox
        WHERE state = 'pending' AND (destination, sop_instance_uid) > (?, ?)
        ORDER BY destination, sop_instance_uid LIMIT ?`),
      pendingOfStudy: db.prepare(
        "SELECT destination, sop_instance_uid, study_instance_uid, priority, next_attempt_at FROM forward_outbox WHERE study_instance_uid = ? AND state = 'pending'",
      ),
      pendingByPriority: db.prepare(`
        SELECT priority, count(*) AS instances, coalesce(sum(size), 0) AS bytes, min(created_at) AS oldest FROM forward_outbox
        WHERE destination = ? AND state = 'pending' GROUP BY priority ORDER BY priority`),
      oldestPending: db.prepare("SELECT min(created_at) AS oldest FROM forward_outbox WHERE destination = ? AND state = 'pending'"),
      failedCount: db.prepare("SELECT count(*) AS n FROM forward_outbox WHERE destination = ? AND state = 'failed'"),
      deliveredSince: db.prepare(`
        SELECT count(*) AS instances, coalesce(sum(size), 0) AS bytes FROM forward_outbox
        WHERE state = 'delivered' AND delivered_at >= ? AND destination = ?`),
      studyRows: db.prepare('SELECT * FROM forward_outbox WHERE study_instance_uid = ? ORDER BY series_instance_uid, sop_instance_uid, destination'),
      studyPriority: db.prepare('SELECT priority, reasons FROM forward_studies WHERE study_instance_uid = ?'),
      dueStat: db.prepare(
        "SELECT 1 FROM forward_outbox WHERE destination = ? AND state = 'pending' AND priority = 0 AND next_attempt_at <= ? LIMIT 1",
      ),
      undeliveredOfStudy: db.prepare("SELECT count(*) AS n FROM forward_outbox WHERE study_instance_uid = ? AND state <> 'delivered'"),
      rowsOfInstance: db.prepare('SELECT * FROM forward_outbox WHERE sop_instance_uid = ?'),
      // Instances whose every forward row is delivered and whose spool copy is still there,
      // oldest confirmation first (retention.ts).
      fullyDelivered: db.prepare(`
        SELECT sop_instance_uid, max(delivered_at) AS last_delivered, max(size) AS size FROM forward_outbox
        WHERE released_at IS NULL GROUP BY sop_instance_uid HAVING sum(state <> 'delivered') = 0
        ORDER BY last_delivered LIMIT ?`),
      released: db.prepare('UPDATE forward_outbox SET released_at = ? WHERE sop_instance_uid = ?'),
    };
  }

  /** Inside the indexing transaction: the instance's forward rows and its study's priority. */
  record(incoming: IncomingForward, now = Date.now()): Recorded {
    const existing = this.s.study.get(incoming.studyInstanceUid) as { priority: number; reasons: string } | undefined;
    let studyPriority = incoming.priority;
    let raised = false;
    if (!existing) {
      this.s.insertStudy.run(incoming.studyInstanceUid, incoming.priority, JSON.stringify(incoming.reasons), now);
    } else if (incoming.priority < existing.priority) {
      this.s.raiseStudy.run(incoming.priority, JSON.stringify(incoming.reasons), incoming.studyInstanceUid);
      raised = this.s.raisePending.run(incoming.priority, now, incoming.studyInstanceUid, incoming.priority).changes > 0;
    } else {
      studyPriority = existing.priority;
    }
    for (const destination of incoming.destinations) {
      this.s.insertRow.run(
        destination,
        incoming.sopInstanceUid,
        incoming.studyInstanceUid,
        incoming.seriesInstanceUid,
        studyPriority,
        incoming.size,
        now,
        now,
      );
    }
    return { studyPriority, raised };
  }

  get(destination: string, sop: string): OutboxRow | undefined {
    return this.s.get.get(destination, sop) as OutboxRow | undefined;
  }

  /** Pending rows of one study for one destination that are due, of at least `priority`, best first. */
  dueOfStudy(destination: string, study: string, priority: number, limit: number, now = Date.now()): OutboxRow[] {
    return this.s.batch.all(destination, study, now, priority, limit) as OutboxRow[];
  }

  markDelivered(destination: string, sop: string, outcome: string, now = Date.now()): void {
    this.s.delivered.run(outcome, now, now, destination, sop);
  }

  markRetry(destination: string, sop: string, attempts: number, nextAttemptAt: number, error: string, now = Date.now()): void {
    this.s.retry.run(attempts, nextAttemptAt, error.slice(0, 1000), now, destination, sop);
  }

  markFailed(destination: string, sop: string, attempts: number, error: string, now = Date.now()): void {
    this.s.failed.run(attempts, error.slice(0, 1000), now, destination, sop);
  }

  /** Pending rows in key order after (destination, sop), for the reconciler to page through. */
  pendingAfter(destination: string, sop: string, limit: number): PendingKey[] {
    return this.s.pendingPage.all(destination, sop, limit) as PendingKey[];
  }

  pendingOfStudy(study: string): PendingKey[] {
    return this.s.pendingOfStudy.all(study) as PendingKey[];
  }

  /**
   * Failed rows back to pending, with their attempts reset, for an operator's retry; by study,
   * destination, or all. Returns the rows to enqueue.
   */
  retryFailed(filter: { study?: string; destination?: string }, now = Date.now()): PendingKey[] {
    const where = ["state = 'failed'"];
    const args: string[] = [];
    if (filter.study) {
      where.push('study_instance_uid = ?');
      args.push(filter.study);
    }
    if (filter.destination) {
      where.push('destination = ?');
      args.push(filter.destination);
    }
    return this.db.transaction(() => {
      const rows = this.db
        .prepare(`SELECT destination, sop_instance_uid, study_instance_uid, priority, 0 AS next_attempt_at FROM forward_outbox WHERE ${where.join(' AND ')}`)
        .all(...args) as PendingKey[];
      this.db
        .prepare(`UPDATE forward_outbox SET state = 'pending', attempts = 0, next_attempt_at = 0, updated_at = ? WHERE ${where.join(' AND ')}`)
        .run(now, ...args);
      return rows;
    })();
  }

  pendingByPriority(destination: string): PriorityCount[] {
    return this.s.pendingByPriority.all(destination) as PriorityCount[];
  }

  oldestPending(destination: string): number | undefined {
    return (this.s.oldestPending.get(destination) as { oldest: number | null }).oldest ?? undefined;
  }

  failedCount(destination: string): number {
    return (this.s.failedCount.get(destination) as { n: number }).n;
  }

  deliveredSince(destination: string, since: number): { instances: number; bytes: number } {
    return this.s.deliveredSince.get(since, destination) as { instances: number; bytes: number };
  }

  /** Whether STAT instances are waiting to be sent to this destination now. */
  hasDueStat(destination: string, now = Date.now()): boolean {
    return this.s.dueStat.get(destination, now) !== undefined;
  }

  /** Every instance of the study confirmed by every destination that takes it. */
  studyDelivered(study: string): boolean {
    return (this.s.undeliveredOfStudy.get(study) as { n: number }).n === 0;
  }

  rowsOfInstance(sop: string): OutboxRow[] {
    return this.s.rowsOfInstance.all(sop) as OutboxRow[];
  }

  fullyDelivered(limit: number): { sop_instance_uid: string; last_delivered: number; size: number }[] {
    return this.s.fullyDelivered.all(limit) as { sop_instance_uid: string; last_delivered: number; size: number }[];
  }

  /** The spool's copy was removed by retention: the rows stay, for the study's status. */
  markReleased(sop: string, now = Date.now()): void {
    this.s.released.run(now, sop);
  }

  studyRows(study: string): OutboxRow[] {
    return this.s.studyRows.all(study) as OutboxRow[];
  }

  studyPriority(study: string): { priority: number; reasons: string[] } | undefined {
    const row = this.s.studyPriority.get(study) as { priority: number; reasons: string } | undefined;
    return row ? { priority: row.priority, reasons: JSON.parse(row.reasons) as string[] } : undefined;
  }
}

export interface PendingKey {
  destination: string;
  sop_instance_uid: string;
  study_instance_uid: string;
  priority: number;
  next_attempt_at: number;
}
