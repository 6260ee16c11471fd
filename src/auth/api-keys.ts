/**
 * API keys for edge devices and scripts that cannot run an OAuth2 flow: 32 random bytes, shown
 * once at creation ("gwk_..."), kept only as their SHA-256 (a key has 256 bits of entropy, so a
 * slow hash adds nothing), with a name and scopes, revocable. In security.sqlite.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { ComponentDatabase } from '../common/component-database';
import { grantsOf, Principal } from './principal';

export const API_KEY_PREFIX = 'gwk_';
const NAME = /^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,99}$/;
/** last_used_at is written at most this often per key. */
const LAST_USED_PRECISION_MS = 60_000;

const MIGRATIONS = [
  {
    version: 1,
    description: 'API keys',
    sql: `CREATE TABLE api_keys (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      key_hash BLOB NOT NULL UNIQUE,
      hint TEXT NOT NULL,
      scopes TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      created_by TEXT NOT NULL,
      revoked_at INTEGER,
      last_used_at INTEGER)`,
  },
];

export interface ApiKeyRecord {
  id: string;
  name: string;
  /** The key's first characters, to recognise it. */
  hint: string;
  scopes: string[];
  createdAt: string;
  createdBy: string;
  revokedAt?: string;
  lastUsedAt?: string;
}

interface Row {
  id: string;
  name: string;
  key_hash: Buffer;
  hint: string;
  scopes: string;
  created_at: number;
  created_by: string;
  revoked_at: number | null;
  last_used_at: number | null;
}

export class InvalidApiKeyRequest extends Error {}

export class ApiKeys {
  constructor(
    private readonly database: ComponentDatabase,
    private readonly scopePrefix: string,
    private readonly now: () => number = Date.now,
  ) {
    database.migrate('api-keys', MIGRATIONS);
  }

  /** A new key: its record and the key itself, which is not kept and cannot be shown again. */
  create(name: string, scopes: string[], createdBy: string): { record: ApiKeyRecord; key: string } {
    if (!NAME.test(name)) throw new InvalidApiKeyRequest('name: 1-100 letters, digits, spaces and . _ @ -, starting with a letter or digit');
    if (!Array.isArray(scopes) || scopes.length === 0 || scopes.length > 100 || !scopes.every((s) => typeof s === 'string' && /^[\x21\x23-\x5b\x5d-\x7e]{1,200}$/.test(s))) {
      throw new InvalidApiKeyRequest('scopes: a non-empty list of scope strings');
    }
    const grants = grantsOf(scopes, this.scopePrefix);
    if (grants.read.size === 0 && grants.write.size === 0 && !grants.admin) {
      throw new InvalidApiKeyRequest(`scopes: none of them grants anything (expected ${this.scopePrefix}read, ${this.scopePrefix}write[:store] or ${this.scopePrefix}admin)`);
    }
    const key = `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
    const id = randomUUID();
    this.database.db
      .prepare('INSERT INTO api_keys (id, name, key_hash, hint, scopes, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(id, name, hashOf(key), key.slice(0, API_KEY_PREFIX.length + 6), JSON.stringify(scopes), this.now(), createdBy);
    return { record: this.get(id)!, key };
  }

  list(): ApiKeyRecord[] {
    return (this.database.db.prepare('SELECT * FROM api_keys ORDER BY created_at, id').all() as Row[]).map(recordOf);
  }

  get(id: string): ApiKeyRecord | undefined {
    const row = this.database.db.prepare('SELECT * FROM api_keys WHERE id = ?').get(id) as Row | undefined;
    return row ? recordOf(row) : undefined;
  }

  /** Revokes a key; false when there is none of that id. Revoking twice keeps the first time. */
  revoke(id: string): boolean {
    const done = this.database.db.prepare('UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?').run(this.now(), id);
    return done.changes > 0;
  }

  /** The principal of a valid, unrevoked key; undefined otherwise. */
  authenticate(key: string): Principal | undefined {
    if (!key.startsWith(API_KEY_PREFIX) || key.length > 200) return undefined;
    const hash = hashOf(key);
    const row = this.database.db.prepare('SELECT * FROM api_keys WHERE key_hash = ?').get(hash) as Row | undefined;
    if (!row || row.revoked_at !== null || !timingSafeEqual(row.key_hash, hash)) return undefined;
    const now = this.now();
    if (row.last_used_at === null || now - row.last_used_at > LAST_USED_PRECISION_MS) {
      this.database.db.prepare('UPDATE api_keys SET last_used_at = ? WHERE id = ?').run(now, row.id);
    }
    return { kind: 'api-key', id: `api-key:${row.name}`, grants: grantsOf(JSON.parse(row.scopes) as string[], this.scopePrefix) };
  }
}

function hashOf(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

function recordOf(row: Row): ApiKeyRecord {
  return {
    id: row.id,
    name: row.name,
    hint: `${row.hint}...`,
    scopes: JSON.parse(row.scopes) as string[],
    createdAt: new Date(row.created_at).toISOString(),
    createdBy: row.created_by,
    ...(row.revoked_at !== null ? { revokedAt: new Date(row.revoked_at).toISOString() } : {}),
    ...(row.last_used_at !== null ? { lastUsedAt: new Date(row.last_used_at).toISOString() } : {}),
  };
}
