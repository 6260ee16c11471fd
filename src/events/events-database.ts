/**
 * The gateway's own SQLite file for study events (DATA_DIR/events.sqlite): study lifecycle,
 * subscriptions, deliveries. Each component owns its tables and versions them on its own
 * (`migrate`), like the forwarding outbox does in the spool.
 */
import { openDurableSqlite } from '../common/durable-sqlite';
import type { Database as Db } from 'better-sqlite3';

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export class EventsDatabase {
  readonly db: Db;

  constructor(path: string) {
    // A subscription created or an event recorded survives power loss once acknowledged.
    this.db = openDurableSqlite(path);
    this.db.exec(`CREATE TABLE IF NOT EXISTS events_migrations (
      component TEXT NOT NULL, version INTEGER NOT NULL, description TEXT NOT NULL, applied_at INTEGER NOT NULL,
      PRIMARY KEY (component, version))`);
  }

  /** Applies the component's migrations not applied yet, each in its own transaction. */
  migrate(component: string, migrations: Migration[]): void {
    const applied = new Set(
      (this.db.prepare('SELECT version FROM events_migrations WHERE component = ?').all(component) as { version: number }[]).map((r) => r.version),
    );
    const known = Math.max(0, ...migrations.map((m) => m.version));
    if (Math.max(0, ...applied) > known) throw new Error(`events.sqlite: ${component} was written by a newer gateway`);
    for (const m of migrations) {
      if (applied.has(m.version)) continue;
      this.db.transaction(() => {
        this.db.exec(m.sql);
        this.db.prepare('INSERT INTO events_migrations (component, version, description, applied_at) VALUES (?, ?, ?, ?)').run(component, m.version, m.description, Date.now());
      })();
    }
  }

  close(): void {
    this.db.close();
  }
}
