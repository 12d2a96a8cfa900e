import { randomBytes } from 'node:crypto';
import IORedis from 'ioredis';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A BullMQ prefix no other test uses (the BullMQ test-suite idiom: unique queue per test). */
export function uniquePrefix(label = 'test'): string {
  return `sbb-${label}-${randomBytes(4).toString('hex')}`;
}

/** Deletes every key under `prefix`. */
export async function cleanupPrefix(prefix: string): Promise<void> {
  const redis = new IORedis(REDIS_URL, { maxRetriesPerRequest: 3 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
}
