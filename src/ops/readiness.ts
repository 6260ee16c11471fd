/**
 * Whether the gateway can serve, checked on each /health/ready: every SQLite file it owns answers
 * a query (each embedded store's index, events.sqlite, security.sqlite), the data folder has at
 * least `health.minFreeDiskBytes` free, and what else it depends on reports its state (Redis
 * through the metadata cache, each store). Not ready means a load balancer should send no traffic:
 * a database that fails or a full disk. A remote store that is down or Redis that is away only
 * degrades the gateway (their requests fail cleanly, or forwarding waits), so they are shown but
 * do not make it unready.
 */
import { statfs } from 'node:fs/promises';
import type { Database as Db } from 'better-sqlite3';

export interface Check {
  ok: boolean;
  detail?: string;
}

export function sqliteCheck(db: Db): Check {
  try {
    db.prepare('SELECT 1').get();
    return { ok: true };
  } catch (e) {
    return { ok: false, detail: (e as Error).message };
  }
}

export async function diskCheck(path: string, minFreeBytes: number): Promise<Check & { freeBytes?: number }> {
  try {
    const s = await statfs(path);
    const freeBytes = Number(s.bavail) * Number(s.bsize);
    return freeBytes >= minFreeBytes
      ? { ok: true, freeBytes }
      : { ok: false, freeBytes, detail: `${freeBytes} bytes free in ${path}, below the ${minFreeBytes} required (health.minFreeDiskBytes)` };
  } catch (e) {
    return { ok: false, detail: `the data folder cannot be checked: ${(e as Error).message}` };
  }
}
