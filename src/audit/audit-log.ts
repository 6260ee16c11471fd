/**
 * The audit trail in security.sqlite: an append-only table (triggers refuse UPDATE and DELETE), one
 * row per audited request, and one row per study it touched so that "who saw study X" is an index
 * lookup. Records are written in batches (one transaction per ~100 ms), off the request's path, and
 * optionally appended as JSON lines to a file for a log shipper. Flushed at shutdown.
 */
import { appendFile } from 'node:fs/promises';
import { Logger } from '@nestjs/common';
import { ComponentDatabase } from '../common/component-database';
import { AuditAction, AuditRecord } from './audit-record';

const MIGRATIONS = [
  {
    version: 1,
    description: 'audit trail',
    sql: `CREATE TABLE audit_records (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      at TEXT NOT NULL,
      request_id TEXT NOT NULL,
      client TEXT NOT NULL,
      client_kind TEXT NOT NULL,
      address TEXT NOT NULL,
      action TEXT NOT NULL,
      method TEXT NOT NULL,
      route TEXT NOT NULL,
      store TEXT,
      studies TEXT NOT NULL,
      status INTEGER NOT NULL,
      outcome TEXT NOT NULL,
      bytes INTEGER NOT NULL,
      duration_ms REAL NOT NULL);
    CREATE INDEX audit_records_at ON audit_records (at);
    CREATE INDEX audit_records_client ON audit_records (client, at);
    CREATE TABLE audit_studies (
      record_id INTEGER NOT NULL REFERENCES audit_records (id),
      study_uid TEXT NOT NULL,
      PRIMARY KEY (study_uid, record_id)) WITHOUT ROWID;
    CREATE TRIGGER audit_records_no_update BEFORE UPDATE ON audit_records BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
    CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
    CREATE TRIGGER audit_studies_no_update BEFORE UPDATE ON audit_studies BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
    CREATE TRIGGER audit_studies_no_delete BEFORE DELETE ON audit_studies BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;`,
  },
];

const FLUSH_MS = 100;
const FLUSH_COUNT = 500;
/** Studies recorded per request (a search of thousands of studies keeps the first ones). */
export const MAX_STUDIES_PER_RECORD = 1000;

export interface AuditQuery {
  study?: string;
  /** ISO 8601 bounds of `at`, inclusive. */
  since?: string;
  until?: string;
  client?: string;
  action?: AuditAction;
  store?: string;
  limit: number;
  offset: number;
}

interface Row {
  id: number;
  at: string;
  request_id: string;
  client: string;
  client_kind: string;
  address: string;
  action: AuditAction;
  method: string;
  route: string;
  store: string | null;
  studies: string;
  status: number;
  outcome: AuditRecord['outcome'];
  bytes: number;
  duration_ms: number;
}

export class AuditLog {
  private readonly logger = new Logger('Audit');
  private pending: AuditRecord[] = [];
  private timer?: NodeJS.Timeout;
  private lines: Promise<void> = Promise.resolve();

  constructor(
    private readonly database: ComponentDatabase,
    private readonly jsonLinesFile?: string,
  ) {
    database.migrate('audit', MIGRATIONS);
  }

  record(entry: AuditRecord): void {
    this.pending.push({ ...entry, studies: entry.studies.slice(0, MAX_STUDIES_PER_RECORD) });
    if (this.pending.length >= FLUSH_COUNT) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  /** Writes what is pending now (and waits for the JSON lines written so far). */
  async flushNow(): Promise<void> {
    this.flush();
    await this.lines;
  }

  query(q: AuditQuery): { records: AuditRecord[]; more: boolean } {
    this.flush();
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.study) {
      where.push('r.id IN (SELECT record_id FROM audit_studies WHERE study_uid = ?)');
      args.push(q.study);
    }
    if (q.since) (where.push('r.at >= ?'), args.push(q.since));
    if (q.until) (where.push('r.at <= ?'), args.push(q.until));
    if (q.client) (where.push('r.client = ?'), args.push(q.client));
    if (q.action) (where.push('r.action = ?'), args.push(q.action));
    if (q.store) (where.push('r.store = ?'), args.push(q.store));
    const sql = `SELECT * FROM audit_records r ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY r.id DESC LIMIT ? OFFSET ?`;
    const rows = this.database.db.prepare(sql).all(...args, q.limit + 1, q.offset) as Row[];
    return { records: rows.slice(0, q.limit).map(recordOf), more: rows.length > q.limit };
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    try {
      const insert = this.database.db.prepare(
        `INSERT INTO audit_records (at, request_id, client, client_kind, address, action, method, route, store, studies, status, outcome, bytes, duration_ms)
         VALUES (@at, @requestId, @client, @clientKind, @address, @action, @method, @route, @store, @studies, @status, @outcome, @bytes, @durationMs)`,
      );
      const study = this.database.db.prepare('INSERT OR IGNORE INTO audit_studies (record_id, study_uid) VALUES (?, ?)');
      this.database.db.transaction(() => {
        for (const r of batch) {
          const { lastInsertRowid } = insert.run({ ...r, store: r.store ?? null, studies: JSON.stringify(r.studies) });
          for (const uid of new Set(r.studies)) study.run(lastInsertRowid, uid);
        }
      })();
    } catch (e) {
      // The trail must not take requests down with it; what could not be written is said loudly.
      this.logger.error(`${batch.length} audit records could not be written: ${(e as Error).message}`);
    }
    if (this.jsonLinesFile) {
      const text = batch.map((r) => JSON.stringify(r)).join('\n') + '\n';
      const file = this.jsonLinesFile;
      this.lines = this.lines.then(() => appendFile(file, text, { mode: 0o600 })).catch((e: Error) => this.logger.error(`audit JSON lines not written to ${file}: ${e.message}`));
    }
  }
}

function recordOf(row: Row): AuditRecord {
  return {
    id: row.id,
    at: row.at,
    requestId: row.request_id,
    client: row.client,
    clientKind: row.client_kind,
    address: row.address,
    action: row.action,
    method: row.method,
    route: row.route,
    ...(row.store !== null ? { store: row.store } : {}),
    studies: JSON.parse(row.studies) as string[],
    status: row.status,
    outcome: row.outcome,
    bytes: row.bytes,
    durationMs: row.duration_ms,
  };
}
