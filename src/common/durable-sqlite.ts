/**
 * An SQLite file opened for durable writes: WAL, and synchronous FULL so that a committed
 * transaction survives power loss, not only a process crash (what the gateway acknowledges must
 * still be there). Foreign keys enforced; a writer waits up to 5 s for another.
 */
import Database from 'better-sqlite3';
import type { Database as Db } from 'better-sqlite3';

export function openDurableSqlite(path: string): Db {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  return db;
}
