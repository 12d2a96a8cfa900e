import { ensureRedis, redactRedisUrl, redisAnswers } from './ensure-redis';
import { freePort } from './free-port';
import { PrivateRedis } from './private-redis';

describe('PrivateRedis', () => {
  it('answers once started, not after stop, and again on the same port after restart', async () => {
    const redis = await PrivateRedis.start();
    try {
      expect(await redisAnswers(redis.url)).toBe(true);
      await redis.stop();
      expect(await redisAnswers(redis.url, 500)).toBe(false);
      await redis.restart();
      expect(await redisAnswers(redis.url)).toBe(true);
    } finally {
      await redis.close();
    }
  });
});

describe('ensureRedis', () => {
  it('starts a private redis-server when nothing answers at the URL, and stops it after', async () => {
    const closed = `redis://127.0.0.1:${await freePort()}`;
    const ensured = await ensureRedis(closed);
    try {
      expect(ensured.started).toBeDefined();
      expect(ensured.url).not.toBe(closed);
      expect(await redisAnswers(ensured.url)).toBe(true);
    } finally {
      await ensured.stop();
    }
    expect(await redisAnswers(ensured.url, 500)).toBe(false);
  });

  it('uses the Redis at the URL when it answers', async () => {
    const redis = await PrivateRedis.start();
    try {
      const ensured = await ensureRedis(redis.url);
      expect({ url: ensured.url, started: ensured.started }).toEqual({ url: redis.url, started: undefined });
    } finally {
      await redis.close();
    }
  });
});

describe('redactRedisUrl', () => {
  it('hides the password, keeps the user and the host', () => {
    expect(redactRedisUrl('redis://app:s3cret@cache:6379/0')).toBe('redis://app:***@cache:6379/0');
    expect(redactRedisUrl('rediss://:s3cret@cache:6380')).toBe('rediss://:***@cache:6380');
    expect(redactRedisUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });
});
