/**
 * The Redis backend of the metadata cache (ioredis). One hash per study and store:
 *   <prefix>:meta:<store>:<study>  v = version, c = when the upstream's answer was merged in,
 *                                  b = compressed bytes, i:<SOP UID> = gzip({"s": series, "j": json})
 * with a TTL renewed on every write; a sorted set of studies by last write and a byte total bound
 * the whole cache (the oldest studies go first). Single-flight across replicas is a lock key
 * (SET NX PX) that the others wait on.
 *
 * Commands fail at once while Redis is away (no offline queue): the caller then answers from the
 * store. The outage is logged once, when it starts, and its end once.
 */
import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync, constants } from 'node:zlib';
import IORedis, { RedisOptions } from 'ioredis';
import { CachedInstance, CachedStudy, contentHash, StudyCacheBackend } from './cached-study';

const LOCK_MS = 30_000;
const WAIT_STEP_MS = 25;

export interface RedisStudyCacheOptions {
  prefix: string;
  ttlMs: number;
  maxStudyBytes: number;
  maxTotalBytes: number;
}

export class RedisStudyCache implements StudyCacheBackend {
  readonly kind = 'redis';
  private readonly logger = new Logger('Metadata cache');
  private readonly redis: IORedis;
  private readonly local = new Map<string, Promise<boolean>>();
  private available = false;
  private lastError?: string;

  constructor(
    connection: RedisOptions,
    private readonly options: RedisStudyCacheOptions,
  ) {
    this.redis = new IORedis({ ...connection, enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: 2_000 });
    this.redis.on('ready', () => {
      if (!this.available && this.lastError) this.logger.log('Redis reachable again: metadata cache back in use');
      this.available = true;
      this.lastError = undefined;
    });
    this.redis.on('error', (e: Error) => this.down(e.message));
    this.redis.on('end', () => this.down('connection closed'));
    this.redis.on('close', () => this.down('connection closed'));
  }

  async get(store: string, study: string, known?: CachedStudy): Promise<CachedStudy | undefined> {
    const key = this.key(store, study);
    if (known) {
      const version = await this.redis.hget(key, 'v');
      if (version === null) return undefined;
      if (Number(version) === known.version) return known;
    }
    const all = await this.redis.hgetallBuffer(key);
    if (!all.v) return undefined;
    const instances = new Map<string, CachedInstance>();
    for (const [field, value] of Object.entries(all)) {
      if (!field.startsWith('i:')) continue;
      const { s, j } = JSON.parse(gunzipSync(value).toString('utf8')) as { s: string; j: string };
      instances.set(field.slice(2), { series: s, sop: field.slice(2), json: j });
    }
    return {
      version: Number(all.v.toString()),
      completeAt: all.c ? Number(all.c.toString()) : undefined,
      instances,
      contentHash: contentHash(instances),
    };
  }

  async put(store: string, study: string, instances: CachedInstance[], complete: boolean): Promise<void> {
    const key = this.key(store, study);
    const fields: (string | Buffer)[] = [];
    let bytes = 0;
    for (const i of instances) {
      const packed = gzipSync(JSON.stringify({ s: i.series, j: i.json }), { level: constants.Z_BEST_SPEED });
      bytes += packed.length;
      fields.push(`i:${i.sop}`, packed);
    }
    const now = Date.now();
    const multi = this.redis.multi();
    if (fields.length > 0) multi.hset(key, ...fields);
    if (complete) multi.hset(key, 'c', String(now)).zrem(this.unconfirmedKey(store), study);
    else multi.zadd(this.unconfirmedKey(store), 'NX', now, study);
    multi.hincrby(key, 'v', 1).hincrby(key, 'b', bytes).pexpire(key, this.options.ttlMs);
    multi.zadd(this.lruKey, now, key).incrby(this.totalKey, bytes);
    const results = (await multi.exec()) ?? [];
    if (!complete && (await this.redis.hexists(key, 'c')) === 1) await this.redis.zrem(this.unconfirmedKey(store), study);
    const studyBytes = Number(results[results.length - 4]?.[1] ?? 0);
    const total = Number(results[results.length - 1]?.[1] ?? 0);
    if (studyBytes > this.options.maxStudyBytes) await this.dropKey(key);
    if (total > this.options.maxTotalBytes) await this.evictOldest(total);
  }

  async drop(store: string, study: string): Promise<void> {
    await this.dropKey(this.key(store, study));
  }

  async singleFlight(store: string, study: string, fill: () => Promise<void>): Promise<boolean> {
    const key = this.key(store, study);
    const running = this.local.get(key);
    if (running) {
      await running.catch(() => undefined);
      return false;
    }
    const flight = this.flight(key, fill).finally(() => this.local.delete(key));
    this.local.set(key, flight);
    return flight;
  }

  async unconfirmed(store: string, limit: number): Promise<string[]> {
    const key = this.unconfirmedKey(store);
    // Entries outlive their study's hash only until the TTL: those are dropped as they are met.
    await this.redis.zremrangebyscore(key, '-inf', Date.now() - this.options.ttlMs);
    return this.redis.zrevrange(key, 0, limit - 1);
  }

  status(): { kind: string; available: boolean; detail?: string } {
    return { kind: this.kind, available: this.available, detail: this.available ? undefined : (this.lastError ?? 'not connected yet') };
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }

  /** The lock across replicas: one fills, the others wait for its lock to go, then read. */
  private async flight(key: string, fill: () => Promise<void>): Promise<boolean> {
    const lock = `${key}:fill`;
    const token = randomBytes(8).toString('hex');
    if ((await this.redis.set(lock, token, 'PX', LOCK_MS, 'NX')) === 'OK') {
      try {
        await fill();
      } finally {
        if ((await this.redis.get(lock).catch(() => null)) === token) await this.redis.del(lock).catch(() => undefined);
      }
      return true;
    }
    const deadline = Date.now() + LOCK_MS;
    while (Date.now() < deadline && (await this.redis.exists(lock)) === 1) await new Promise((r) => setTimeout(r, WAIT_STEP_MS));
    return false;
  }

  private async dropKey(key: string): Promise<void> {
    const bytes = Number((await this.redis.hget(key, 'b')) ?? 0);
    await this.redis.multi().del(key).zrem(this.lruKey, key).decrby(this.totalKey, bytes).exec();
  }

  /** Drops the studies written longest ago until the total is under the bound again. */
  private async evictOldest(total: number): Promise<void> {
    while (total > this.options.maxTotalBytes) {
      const oldest = await this.redis.zpopmin(this.lruKey, 8);
      if (oldest.length === 0) {
        await this.redis.set(this.totalKey, '0'); // the counter outlived its keys (TTL): start again
        return;
      }
      for (let i = 0; i < oldest.length; i += 2) {
        const bytes = Number((await this.redis.hget(oldest[i], 'b')) ?? 0);
        await this.redis.del(oldest[i]);
        total = await this.redis.decrby(this.totalKey, bytes);
      }
    }
  }

  private down(reason: string): void {
    if (this.available || this.lastError === undefined) {
      if (this.available) this.logger.warn(`Redis unreachable (${reason}): metadata answered from the stores until it is back`);
      this.available = false;
    }
    this.lastError = reason;
  }

  private key(store: string, study: string): string {
    return `${this.options.prefix}:meta:${store}:${study}`;
  }

  private unconfirmedKey(store: string): string {
    return `${this.options.prefix}:meta:${store}:unconfirmed`;
  }

  private get lruKey(): string {
    return `${this.options.prefix}:meta:lru`;
  }

  private get totalKey(): string {
    return `${this.options.prefix}:meta:total`;
  }
}
