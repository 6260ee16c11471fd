/** Reads what the embedded store holds, straight from its SQLite index and folder. */
import Database from 'better-sqlite3';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface InstanceRow {
  sop_instance_uid: string;
  file_path: string;
  file_size: number;
  sha256: string;
  metadata_json: string;
}

export function storeRoot(dataDir: string): string {
  return join(dataDir, 'stores', 'default');
}

export function readIndex<T = InstanceRow>(dataDir: string, sql = 'SELECT * FROM instances'): T[] {
  const db = new Database(join(storeRoot(dataDir), 'index.sqlite'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

export function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(p));
    else out.push(p);
  }
  return out;
}
