/**
 * Tests share the real Redis at 127.0.0.1:6379: each run uses its own key prefix, and removes only
 * its own keys afterwards (SCAN + DEL, never FLUSHALL).
 */
import { randomBytes } from 'node:crypto';
import IORedis from 'ioredis';

export const TEST_REDIS_URL = 'redis://127.0.0.1:6379';

export function uniqueRedisPrefix(what: string): string {
  return `gw-test-${what}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** Deletes every key under `prefix`; returns how many. */
export async function deleteRedisKeys(prefix: string): Promise<number> {
  const redis = new IORedis(TEST_REDIS_URL, { maxRetriesPerRequest: 2 });
  try {
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== '0');
    return deleted;
  } finally {
    redis.disconnect();
  }
}
