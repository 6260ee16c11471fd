/**
 * Where a federated store's studies are: for each study UID, the members found holding it, learned
 * from search results and STOW and remembered for `ttlMs`, so that WADO goes straight to the
 * member that has the study instead of asking each in turn. In Redis when the gateway has one
 * (shared by replicas, kept across restarts): one set per study,
 *   <prefix>:federated:<store>:study:<uid>  = { member, ... }   (TTL renewed on each write)
 * else in process (bounded). A Redis that is away only costs the fallback of asking the members.
 */
import IORedis, { RedisOptions } from 'ioredis';

export interface StudyLocations {
  /** The members known to hold the study (any order); empty when unknown. */
  get(study: string): Promise<string[]>;
  add(study: string, members: string[]): Promise<void>;
  close(): Promise<void>;
}

const MAX_IN_PROCESS = 100_000;

export class InProcessStudyLocations implements StudyLocations {
  private readonly map = new Map<string, { members: Set<string>; expires: number }>();

  constructor(private readonly ttlMs: number) {}

  async get(study: string): Promise<string[]> {
    const entry = this.map.get(study);
    if (!entry || entry.expires < Date.now()) return [];
    return [...entry.members];
  }

  async add(study: string, members: string[]): Promise<void> {
    if (members.length === 0) return;
    const entry = this.map.get(study);
    const set = entry && entry.expires >= Date.now() ? entry.members : new Set<string>();
    for (const m of members) set.add(m);
    this.map.delete(study);
    this.map.set(study, { members: set, expires: Date.now() + this.ttlMs });
    // The oldest written go first.
    for (const key of this.map.keys()) {
      if (this.map.size <= MAX_IN_PROCESS) break;
      this.map.delete(key);
    }
  }

  async close(): Promise<void> {
    this.map.clear();
  }
}

export class RedisStudyLocations implements StudyLocations {
  private readonly redis: IORedis;

  constructor(
    connection: RedisOptions,
    private readonly prefix: string,
    private readonly ttlMs: number,
  ) {
    // No offline queue: while Redis is away, lookups fail at once and the members are asked.
    this.redis = new IORedis({ ...connection, enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: 2_000, lazyConnect: false });
    this.redis.on('error', () => undefined);
  }

  private key(study: string): string {
    return `${this.prefix}:study:${study}`;
  }

  async get(study: string): Promise<string[]> {
    try {
      return await this.redis.smembers(this.key(study));
    } catch {
      return [];
    }
  }

  async add(study: string, members: string[]): Promise<void> {
    if (members.length === 0) return;
    try {
      await this.redis.multi().sadd(this.key(study), ...members).pexpire(this.key(study), this.ttlMs).exec();
    } catch {
      /* remembered next time Redis is there */
    }
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
