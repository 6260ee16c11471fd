/** ioredis connection options from the configured REDIS_URL (the forwarding queues, the metadata cache). */
import type { RedisOptions } from 'ioredis';

/** Redis connection options from a redis:// URL, for BullMQ (which needs maxRetriesPerRequest null on workers). */
export function redisOptions(url: string | undefined): RedisOptions {
  const parsed = new URL(url ?? 'redis://127.0.0.1:6379');
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 6379),
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : undefined,
    tls: parsed.protocol === 'rediss:' ? {} : undefined,
    maxRetriesPerRequest: null,
    // Reconnect forever, at most every 2 s: Redis coming back resumes forwarding by itself.
    retryStrategy: (times) => Math.min(2_000, 50 * times),
  };
}
