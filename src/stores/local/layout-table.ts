/**
 * Instance layouts (instance-layout.ts) in the index (table instance_layouts, schema version 3),
 * with a small cache of parsed layouts: instances are never changed once stored, so a cached
 * layout cannot go stale, and the frames of a multi-frame image are located without JSON parsing
 * on every request.
 */
import type { Database, Statement } from 'better-sqlite3';
import { InstanceLayout, LAYOUT_FORMAT } from './instance-layout';

const CACHE_ENTRIES = 2048;

export class LayoutTable {
  private readonly cache = new Map<number, InstanceLayout>();
  private readonly insert: Statement;
  private readonly insertBySop: Statement;

  constructor(db: Database) {
    this.insert = db.prepare('INSERT OR REPLACE INTO instance_layouts (instance_pk, layout) VALUES (?, ?)');
    this.insertBySop = db.prepare(
      'INSERT OR REPLACE INTO instance_layouts (instance_pk, layout) SELECT instance_pk, ? FROM instances WHERE sop_instance_uid = ?',
    );
  }

  /** Drops a deleted instance's layout: SQLite may give its pk to the next instance stored. */
  forget(instancePk: number): void {
    this.cache.delete(instancePk);
  }

  /** The layout of a row read with its layout column; parsed once, then cached. */
  parse(instancePk: number, text: string | null): InstanceLayout | undefined {
    const cached = this.cache.get(instancePk);
    if (cached) {
      // Refresh its place: the map's order is the eviction order.
      this.cache.delete(instancePk);
      this.cache.set(instancePk, cached);
      return cached;
    }
    if (text === null) return undefined;
    const layout = JSON.parse(text) as InstanceLayout;
    // An older format lacks what later code needs: recomputed from the file and saved again.
    if (layout.v !== LAYOUT_FORMAT) return undefined;
    this.remember(instancePk, layout);
    return layout;
  }

  save(instancePk: number, layout: InstanceLayout): void {
    this.insert.run(instancePk, JSON.stringify(layout));
    this.remember(instancePk, layout);
  }

  /** At ingest, inside the transaction that indexes the instance. */
  saveForSop(sopInstanceUid: string, layout: InstanceLayout): void {
    this.insertBySop.run(JSON.stringify(layout), sopInstanceUid);
  }

  private remember(instancePk: number, layout: InstanceLayout): void {
    this.cache.set(instancePk, layout);
    if (this.cache.size > CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value as number);
  }
}
