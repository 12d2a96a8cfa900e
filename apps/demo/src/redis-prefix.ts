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

/** Throws a readable error when Redis does not answer PING. */
export async function checkRedis(url: string): Promise<void> {
  try {
    await withRedis(url, (r) => r.ping());
  } catch (e) {
    throw new DemoError(`Redis does not answer at ${redactRedisUrl(url)} (${(e as Error).message}). Start one (redis-server) or set REDIS_URL.`);
  }
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

export function redactRedisUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, (_, auth: string) => `//${auth.includes(':') ? auth.split(':')[0] + ':***' : '***'}@`);
}
