/**
 * Webhook deliveries in events.sqlite (component "deliveries"): the source of truth. Redis only
 * holds pointers to pending rows (delivery-queue.ts) and is rebuilt from here at start and
 * periodically (delivery-reconciler.ts).
 *
 * A delivery is `pending` (waiting for its next attempt at next_attempt_at, or in flight),
 * `delivered` (a 2xx answer), `dead` (the retry schedule ran out), or `cancelled` (its
 * subscription was deleted). Every attempt is logged in delivery_attempts.
 * `seq` orders the deliveries of one subscription and study: a delivery is not sent while an
 * earlier one of the same subscription and study is pending.
 */
import { randomUUID } from 'node:crypto';
import type { Database as Db } from 'better-sqlite3';
import { EventsDatabase, Migration } from '../events-database';
import { StudyEvent } from '../study-event';

export type DeliveryState = 'pending' | 'delivered' | 'dead' | 'cancelled';

export interface DeliveryRow {
  seq: number;
  id: string;
  subscription_id: string;
  event_id: string;
  event_type: string;
  study: string;
  store: string;
  payload: string;
  state: DeliveryState;
  /** Attempts made in all, over every round (a redelivery starts a new round). */
  attempts: number;
  /** `attempts` when the current round started: the retry schedule counts from here. */
  round_start: number;
  next_attempt_at: number;
  created_at: number;
  updated_at: number;
  delivered_at: number | null;
  last_status: number | null;
  last_error: string | null;
}

export interface AttemptRow {
  delivery_id: string;
  attempt: number;
  started_at: number;
  duration_ms: number;
  status: number | null;
  error: string | null;
}

export const DELIVERY_MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'webhook deliveries and their attempts',
    sql: `
      CREATE TABLE deliveries (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        subscription_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        event_type TEXT NOT NULL,
        study TEXT NOT NULL,
        store TEXT NOT NULL,
        payload TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead', 'cancelled')),
        attempts INTEGER NOT NULL DEFAULT 0,
        round_start INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        delivered_at INTEGER,
        last_status INTEGER,
        last_error TEXT,
        UNIQUE (subscription_id, event_id)
      );
      CREATE INDEX deliveries_pending ON deliveries (state, seq) WHERE state = 'pending';
      CREATE INDEX deliveries_study ON deliveries (subscription_id, study, state, seq);
      CREATE INDEX deliveries_finished ON deliveries (state, updated_at);
      CREATE TABLE delivery_attempts (
        delivery_id TEXT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
        attempt INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        duration_ms INTEGER NOT NULL,
        status INTEGER,
        error TEXT,
        PRIMARY KEY (delivery_id, attempt)
      );`,
  },
];

/** Longest error text kept per attempt. */
const MAX_ERROR = 500;
const clip = (s: string | null): string | null => (s === null ? null : s.length > MAX_ERROR ? `${s.slice(0, MAX_ERROR)}...` : s);

export class DeliveryStore {
  readonly db: Db;

  constructor(events: EventsDatabase) {
    events.migrate('deliveries', DELIVERY_MIGRATIONS);
    this.db = events.db;
  }

  /** Records a delivery, unless this subscription already has one for this event; returns the row. */
  insert(subscriptionId: string, event: StudyEvent, payload: Record<string, unknown>, now = Date.now()): { row: DeliveryRow; created: boolean } {
    const result = this.db
      .prepare(
        `INSERT INTO deliveries (id, subscription_id, event_id, event_type, study, store, payload, state, next_attempt_at, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?) ON CONFLICT (subscription_id, event_id) DO NOTHING`,
      )
      .run(randomUUID(), subscriptionId, event.id, event.type, event.studyInstanceUid, event.store, JSON.stringify(payload), now, now, now);
    const row = this.db.prepare('SELECT * FROM deliveries WHERE subscription_id = ? AND event_id = ?').get(subscriptionId, event.id) as DeliveryRow;
    return { row, created: result.changes > 0 };
  }

  get(id: string): DeliveryRow | undefined {
    return this.db.prepare('SELECT * FROM deliveries WHERE id = ?').get(id) as DeliveryRow | undefined;
  }

  /** The earliest pending delivery of the same subscription and study created before this one. */
  earlierPending(row: DeliveryRow): DeliveryRow | undefined {
    return this.db
      .prepare(`SELECT * FROM deliveries WHERE subscription_id = ? AND study = ? AND state = 'pending' AND seq < ? ORDER BY seq LIMIT 1`)
      .get(row.subscription_id, row.study, row.seq) as DeliveryRow | undefined;
  }

  /** The next pending delivery of the same subscription and study after this one. */
  nextPending(row: DeliveryRow): DeliveryRow | undefined {
    return this.db
      .prepare(`SELECT * FROM deliveries WHERE subscription_id = ? AND study = ? AND state = 'pending' AND seq > ? ORDER BY seq LIMIT 1`)
      .get(row.subscription_id, row.study, row.seq) as DeliveryRow | undefined;
  }

  /** Pending deliveries after `afterSeq`, in order: the reconciler's pages. */
  pendingAfter(afterSeq: number, limit: number): Pick<DeliveryRow, 'seq' | 'id' | 'next_attempt_at'>[] {
    return this.db
      .prepare(`SELECT seq, id, next_attempt_at FROM deliveries WHERE state = 'pending' AND seq > ? ORDER BY seq LIMIT ?`)
      .all(afterSeq, limit) as Pick<DeliveryRow, 'seq' | 'id' | 'next_attempt_at'>[];
  }

  /** Logs an attempt and applies its outcome to the delivery, in one transaction. */
  recordAttempt(
    row: DeliveryRow,
    attempt: { startedAt: number; durationMs: number; status: number | null; error: string | null },
    outcome: { state: 'delivered' } | { state: 'pending'; nextAttemptAt: number } | { state: 'dead' },
    now = Date.now(),
  ): void {
    const n = row.attempts + 1;
    this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO delivery_attempts (delivery_id, attempt, started_at, duration_ms, status, error) VALUES (?, ?, ?, ?, ?, ?)')
        .run(row.id, n, attempt.startedAt, attempt.durationMs, attempt.status, clip(attempt.error));
      this.db
        .prepare(
          `UPDATE deliveries SET attempts = ?, state = ?, next_attempt_at = ?, updated_at = ?, delivered_at = ?, last_status = ?, last_error = ? WHERE id = ?`,
        )
        .run(
          n,
          outcome.state,
          outcome.state === 'pending' ? outcome.nextAttemptAt : row.next_attempt_at,
          now,
          outcome.state === 'delivered' ? now : row.delivered_at,
          attempt.status,
          clip(attempt.error),
          row.id,
        );
    })();
  }

  /** Pushes a pending delivery's next look without using an attempt (paused subscription). */
  postpone(id: string, at: number, now = Date.now()): void {
    this.db.prepare(`UPDATE deliveries SET next_attempt_at = ?, updated_at = ? WHERE id = ? AND state = 'pending'`).run(at, now, id);
  }

  cancel(id: string, reason: string, now = Date.now()): void {
    this.db.prepare(`UPDATE deliveries SET state = 'cancelled', last_error = ?, updated_at = ? WHERE id = ? AND state = 'pending'`).run(reason, now, id);
  }

  /**
   * A delivered or dead delivery goes again: pending, due now, a new round of the retry schedule;
   * its attempt log is kept. A pending one is just made due now. Returns the row, or undefined when
   * it cannot be redelivered (cancelled).
   */
  redeliver(id: string, now = Date.now()): DeliveryRow | undefined {
    return this.db.transaction(() => {
      const row = this.get(id);
      if (!row || row.state === 'cancelled') return undefined;
      if (row.state === 'pending') {
        this.db.prepare('UPDATE deliveries SET next_attempt_at = ?, updated_at = ? WHERE id = ?').run(now, now, id);
      } else {
        this.db
          .prepare(`UPDATE deliveries SET state = 'pending', round_start = attempts, next_attempt_at = ?, updated_at = ?, delivered_at = NULL WHERE id = ?`)
          .run(now, now, id);
      }
      return this.get(id);
    })();
  }

  /** A subscription's deliveries, newest first. */
  list(subscriptionId: string, limit: number): DeliveryRow[] {
    return this.db.prepare('SELECT * FROM deliveries WHERE subscription_id = ? ORDER BY seq DESC LIMIT ?').all(subscriptionId, limit) as DeliveryRow[];
  }

  attemptsOf(ids: string[]): Map<string, AttemptRow[]> {
    const byId = new Map<string, AttemptRow[]>(ids.map((id) => [id, []]));
    if (ids.length === 0) return byId;
    const rows = this.db
      .prepare(`SELECT * FROM delivery_attempts WHERE delivery_id IN (${ids.map(() => '?').join(',')}) ORDER BY delivery_id, attempt`)
      .all(...ids) as AttemptRow[];
    for (const r of rows) byId.get(r.delivery_id)?.push(r);
    return byId;
  }

  countsByState(): { state: DeliveryState; n: number }[] {
    return this.db.prepare('SELECT state, COUNT(*) AS n FROM deliveries GROUP BY state').all() as { state: DeliveryState; n: number }[];
  }

  oldestPendingCreatedAt(): number | undefined {
    const r = this.db.prepare(`SELECT MIN(created_at) AS t FROM deliveries WHERE state = 'pending'`).get() as { t: number | null };
    return r.t ?? undefined;
  }

  /** Forgets finished deliveries (and their attempts) last changed before `before`; returns how many. */
  prune(before: number): number {
    return this.db.prepare(`DELETE FROM deliveries WHERE state IN ('delivered', 'dead', 'cancelled') AND updated_at < ?`).run(before).changes;
  }
}
