/**
 * An SQLite file of the gateway's own (events.sqlite, security.sqlite) shared by several
 * components, each owning its tables and versioning them on its own (`migrate`), like the
 * forwarding outbox does in the spool.
 */
import { openDurableSqlite } from './durable-sqlite';
import type { Database as Db } from 'better-sqlite3';

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export class ComponentDatabase {
  readonly db: Db;

  constructor(
    path: string,
    /** The table recording applied migrations (kept per file as it was first named). */
    private readonly migrationsTable: string,
    private readonly fileName: string,
  ) {
    this.db = openDurableSqlite(path);
    this.db.exec(`CREATE TABLE IF NOT EXISTS ${migrationsTable} (
      component TEXT NOT NULL, version INTEGER NOT NULL, description TEXT NOT NULL, applied_at INTEGER NOT NULL,
      PRIMARY KEY (component, version))`);
  }

  /** Applies the component's migrations not applied yet, each in its own transaction. */
  migrate(component: string, migrations: Migration[]): void {
    const applied = new Set(
      (this.db.prepare(`SELECT version FROM ${this.migrationsTable} WHERE component = ?`).all(component) as { version: number }[]).map((r) => r.version),
    );
    const known = Math.max(0, ...migrations.map((m) => m.version));
    if (Math.max(0, ...applied) > known) throw new Error(`${this.fileName}: ${component} was written by a newer gateway`);
    for (const m of migrations) {
      if (applied.has(m.version)) continue;
      this.db.transaction(() => {
        this.db.exec(m.sql);
        this.db.prepare(`INSERT INTO ${this.migrationsTable} (component, version, description, applied_at) VALUES (?, ?, ?, ?)`).run(component, m.version, m.description, Date.now());
      })();
    }
  }

  close(): void {
    this.db.close();
  }
}
