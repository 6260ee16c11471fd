/**
 * The outbox lives in the spool's own SQLite file, so that an instance's forward rows are written
 * in the same transaction as its index row: either both exist or neither. Its tables are owned
 * here, not by the embedded store, and versioned on their own (forwarding_migrations).
 */
import type { Database } from 'better-sqlite3';

const MIGRATIONS: { version: number; description: string; sql: string }[] = [
  {
    version: 1,
    description: 'forward rows per instance and destination, study priorities',
    sql: `
      -- One row per instance and destination: the source of truth of what must still be sent.
      -- The BullMQ queue in Redis is derived from the pending rows (reconciler.ts).
      CREATE TABLE forward_outbox (
        destination         TEXT NOT NULL,
        sop_instance_uid    TEXT NOT NULL,
        study_instance_uid  TEXT NOT NULL,
        series_instance_uid TEXT NOT NULL,
        priority            INTEGER NOT NULL,  -- 0 STAT, 1 HIGH, 2 ROUTINE, 3 LOW (the study's, once raised)
        size                INTEGER NOT NULL,
        state               TEXT NOT NULL,     -- pending | delivered | failed
        attempts            INTEGER NOT NULL DEFAULT 0,
        last_error          TEXT,
        next_attempt_at     INTEGER NOT NULL DEFAULT 0, -- ms since the epoch: backoff after a refusal
        outcome             TEXT,              -- stored | already-stored, once delivered
        created_at          INTEGER NOT NULL,
        updated_at          INTEGER NOT NULL,
        delivered_at        INTEGER,
        released_at         INTEGER,           -- when retention removed the spool's copy
        PRIMARY KEY (destination, sop_instance_uid)
      ) WITHOUT ROWID;
      CREATE INDEX forward_outbox_work ON forward_outbox(destination, state, priority, created_at);
      CREATE INDEX forward_outbox_study ON forward_outbox(study_instance_uid, destination, state);
      CREATE INDEX forward_outbox_unreleased ON forward_outbox(sop_instance_uid) WHERE released_at IS NULL;

      -- The priority of a study is the highest of its instances: a study becomes STAT as soon as
      -- one of its instances is, and its pending instances are raised with it.
      CREATE TABLE forward_studies (
        study_instance_uid TEXT PRIMARY KEY,
        priority           INTEGER NOT NULL,
        reasons            TEXT NOT NULL,      -- JSON array of why
        first_seen         INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
];

export function migrateOutbox(db: Database): void {
  db.exec(`CREATE TABLE IF NOT EXISTS forwarding_migrations (
    version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  const applied = new Set((db.prepare('SELECT version FROM forwarding_migrations').all() as { version: number }[]).map((r) => r.version));
  const known = MIGRATIONS[MIGRATIONS.length - 1].version;
  if (Math.max(0, ...applied) > known) {
    throw new Error(`the spool's outbox was written by a newer gateway (outbox schema ${Math.max(...applied)}, this build knows ${known})`);
  }
  for (const m of MIGRATIONS) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO forwarding_migrations (version, description, applied_at) VALUES (?, ?, ?)').run(m.version, m.description, Date.now());
    })();
  }
}
