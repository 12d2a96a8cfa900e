import { findRedisServer, PrivateRedis, REDIS_INSTALL_HINT, redactRedisUrl, redisAnswers } from '@bridge/common';
import { DemoError } from './demo-error';
import IORedis from 'ioredis';

/** A short-lived Redis connection that fails fast instead of retrying forever. */
async function withRedis<T>(url: string, f: (redis: IORedis) => Promise<T>): Promise<T> {
  const redis = new IORedis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 3000, retryStrategy: () => null });
  redis.on('error', () => undefined); // reported through the rejected command instead
  try {
    await redis.connect();
    return await f(redis);
  } finally {
    redis.disconnect();
  }
}

/**
 * The Redis the demo uses: `url` when it answers, else a private redis-server on a spare port
 * (handed to `adopt`, so it is stopped with the other children), else a one-line "how to get one".
 */
export async function chooseRedis(
  url: string,
  adopt: (redis: PrivateRedis) => void,
  note: (text: string) => void,
): Promise<{ url: string; private: boolean }> {
  if (await redisAnswers(url)) return { url, private: false };
  if (!findRedisServer())
    throw new DemoError(`no Redis answers at ${redactRedisUrl(url)} and redis-server is not installed. ${REDIS_INSTALL_HINT}`);
  const redis = await PrivateRedis.start();
  adopt(redis);
  note(
    `no Redis answers at ${redactRedisUrl(url)}: started a private redis-server at ${redis.url} (nothing persisted, stopped when the demo ends)`,
  );
  return { url: redis.url, private: true };
}

/** Deletes every key of a BullMQ prefix (the demo's own, so runs never see each other's jobs). */
export async function clearPrefix(url: string, prefix: string): Promise<number> {
  return withRedis(url, async (redis) => {
    let cursor = '0';
    let n = 0;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) n += await redis.unlink(...keys);
    } while (cursor !== '0');
    return n;
  });
}
