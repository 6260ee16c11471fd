/**
 * Webhook subscriptions (DESIGN.md 6), in events.sqlite (component "subscriptions"): where to
 * deliver, which event types, which studies (subscription-filters.ts), and the signing secret.
 *
 * Secrets follow the Standard Webhooks format: "whsec_" + base64 of 32 random bytes; the bytes
 * are the HMAC-SHA256 key. They are stored as they are (signing needs them, a hash would not do),
 * returned only by `create` and `rotateSecret`, never by `get`/`list`, and never logged. After a
 * rotation the previous secret keeps signing (alongside the new one, as the specification allows
 * several signatures) until its overlap ends, so a subscriber can switch without losing deliveries.
 *
 * The store validates what it is given (events, filters, URL syntax) whoever calls it; the SSRF
 * check needs DNS and is async, so callers run `checkWebhookUrl` before `create`/`update`.
 */
import { randomBytes } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import { BadRequest } from '../../dicomweb/errors';
import { NotFound } from '../../stores/store-errors';
import { EventsDatabase, Migration } from '../events-database';
import { StudyEventType, StudyFacts } from '../study-event';
import { parseWebhookUrl } from './ssrf-guard';
import { CompiledFilters, compileFilters, filtersMatch, parseFilters, SubscriptionFilters } from './subscription-filters';
import { isOverlap, MAX_OVERLAP_SECONDS, parseDescription, parseEvents } from './subscription-input';

export type { SubscriptionFilters } from './subscription-filters';

export interface Subscription {
  id: string;
  url: string;
  events: StudyEventType[];
  filters: SubscriptionFilters;
  description?: string;
  status: 'active' | 'paused';
  /** ISO 8601. */
  createdAt: string;
  updatedAt: string;
}

const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'subscriptions',
    sql: `CREATE TABLE subscriptions (
      id TEXT PRIMARY KEY,
      url TEXT NOT NULL,
      events TEXT NOT NULL,
      filters TEXT NOT NULL,
      description TEXT,
      status TEXT NOT NULL CHECK (status IN ('active', 'paused')),
      secret TEXT NOT NULL,
      previous_secret TEXT,
      previous_secret_until INTEGER,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );
    CREATE INDEX subscriptions_status ON subscriptions (status);`,
  },
];

interface Row {
  id: string;
  url: string;
  events: string;
  filters: string;
  description: string | null;
  status: 'active' | 'paused';
  secret: string;
  previous_secret: string | null;
  previous_secret_until: number | null;
  created_at: string;
  updated_at: string;
}

/** Compiled filters kept per distinct filters text; bounded, subscriptions are few. */
const MAX_COMPILED = 1000;

export class SubscriptionStore {
  private readonly resumeListeners: ((id: string) => void)[] = [];
  private readonly compiled = new Map<string, CompiledFilters>();
  private readonly statements: {
    insert: Statement;
    get: Statement;
    list: Statement;
    active: Statement;
    update: Statement;
    rotate: Statement;
    delete: Statement;
  };

  constructor(events: EventsDatabase) {
    events.migrate('subscriptions', MIGRATIONS);
    const db = events.db;
    this.statements = {
      insert: db.prepare(
        `INSERT INTO subscriptions (id, url, events, filters, description, status, secret, created_at, updated_at)
         VALUES (@id, @url, @events, @filters, @description, 'active', @secret, @now, @now)`,
      ),
      get: db.prepare('SELECT * FROM subscriptions WHERE id = ?'),
      list: db.prepare('SELECT * FROM subscriptions ORDER BY created_at, rowid'),
      active: db.prepare(`SELECT * FROM subscriptions WHERE status = 'active' ORDER BY created_at, rowid`),
      update: db.prepare(
        `UPDATE subscriptions SET url = @url, events = @events, filters = @filters, description = @description, status = @status, updated_at = @now WHERE id = @id`,
      ),
      rotate: db.prepare(
        `UPDATE subscriptions SET previous_secret = secret, previous_secret_until = @until, secret = @secret, updated_at = @now WHERE id = @id`,
      ),
      delete: db.prepare('DELETE FROM subscriptions WHERE id = ?'),
    };
  }

  create(input: { url: string; events: StudyEventType[]; filters?: SubscriptionFilters; description?: string }): { subscription: Subscription; secret: string } {
    parseWebhookUrl(input.url);
    const events = parseEvents(input.events);
    const filters = input.filters === undefined ? {} : parseFilters(input.filters);
    const description = input.description === undefined ? undefined : parseDescription(input.description);
    const id = newId();
    const secret = newSecret();
    this.statements.insert.run({
      id,
      url: input.url,
      events: JSON.stringify(events),
      filters: JSON.stringify(filters),
      description: description ?? null,
      secret,
      now: new Date().toISOString(),
    });
    return { subscription: this.get(id)!, secret };
  }

  get(id: string): Subscription | undefined {
    const row = this.row(id);
    return row && toSubscription(row);
  }

  list(): Subscription[] {
    return (this.statements.list.all() as Row[]).map(toSubscription);
  }

  /** Replaces the fields given (filters as a whole); `description: null` removes it. */
  update(
    id: string,
    patch: { url?: string; events?: StudyEventType[]; filters?: SubscriptionFilters; description?: string | null; status?: 'active' | 'paused' },
  ): Subscription {
    const current = this.row(id);
    if (!current) throw new NotFound(`no subscription ${id}`);
    if (patch.url !== undefined) parseWebhookUrl(patch.url);
    if (patch.status !== undefined && patch.status !== 'active' && patch.status !== 'paused') throw new BadRequest('status: expected "active" or "paused"');
    this.statements.update.run({
      id,
      url: patch.url ?? current.url,
      events: patch.events === undefined ? current.events : JSON.stringify(parseEvents(patch.events)),
      filters: patch.filters === undefined ? current.filters : JSON.stringify(parseFilters(patch.filters)),
      description: patch.description === undefined ? current.description : patch.description === null ? null : parseDescription(patch.description),
      status: patch.status ?? current.status,
      now: new Date().toISOString(),
    });
    if (patch.status === 'active' && current.status === 'paused') for (const listener of this.resumeListeners) listener(id);
    return this.get(id)!;
  }

  /** Told when a paused subscription is resumed (its waiting deliveries go at once). */
  onResumed(listener: (id: string) => void): void {
    this.resumeListeners.push(listener);
  }

  /**
   * A new secret; the current one becomes the previous one and keeps signing for `overlapSeconds`
   * (0: not at all). A secret that was still in its overlap from an earlier rotation is dropped.
   */
  rotateSecret(id: string, overlapSeconds: number, now = Date.now()): { secret: string } {
    if (!isOverlap(overlapSeconds)) throw new BadRequest(`overlapSeconds: expected an integer from 0 to ${MAX_OVERLAP_SECONDS} (7 days)`);
    const secret = newSecret();
    const changed = this.statements.rotate.run({ id, secret, until: now + overlapSeconds * 1000, now: new Date(now).toISOString() }).changes;
    if (changed === 0) throw new NotFound(`no subscription ${id}`);
    return { secret };
  }

  delete(id: string): boolean {
    return this.statements.delete.run(id).changes > 0;
  }

  /** The secrets to sign a delivery with: the current one first, then the previous one while its
   *  overlap lasts. Empty for an unknown (deleted) subscription. */
  signingSecrets(id: string, now = Date.now()): string[] {
    const row = this.row(id);
    if (!row) return [];
    const secrets = [row.secret];
    if (row.previous_secret && row.previous_secret_until !== null && now < row.previous_secret_until) secrets.push(row.previous_secret);
    return secrets;
  }

  /** Active subscriptions that want this event type and whose filters all hold. */
  matching(facts: StudyFacts): Subscription[] {
    const out: Subscription[] = [];
    for (const row of this.statements.active.all() as Row[]) {
      const subscription = toSubscription(row);
      if (!subscription.events.includes(facts.event.type)) continue;
      if (filtersMatch(this.compile(row.filters, subscription.filters), facts)) out.push(subscription);
    }
    return out;
  }

  private row(id: string): Row | undefined {
    return this.statements.get.get(id) as Row | undefined;
  }

  private compile(text: string, filters: SubscriptionFilters): CompiledFilters {
    let compiled = this.compiled.get(text);
    if (!compiled) {
      if (this.compiled.size >= MAX_COMPILED) this.compiled.clear();
      compiled = compileFilters(filters);
      this.compiled.set(text, compiled);
    }
    return compiled;
  }
}

function toSubscription(row: Row): Subscription {
  return {
    id: row.id,
    url: row.url,
    events: JSON.parse(row.events) as StudyEventType[],
    filters: JSON.parse(row.filters) as SubscriptionFilters,
    ...(row.description !== null ? { description: row.description } : {}),
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** "sub_" + 16 random bytes, base64url (22 characters). */
function newId(): string {
  return `sub_${randomBytes(16).toString('base64url')}`;
}

/** Standard Webhooks: "whsec_" + base64 of the key bytes. */
function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}
