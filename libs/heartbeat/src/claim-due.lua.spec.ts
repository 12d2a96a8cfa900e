import IORedis from 'ioredis';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../../../test/support/redis';
import { CLAIM_DUE_SCRIPT } from './claim-due.lua';
import { HeartbeatKeys } from './heartbeat-keys';

describe('the heartbeat claim script (real Redis)', () => {
  const prefix = uniquePrefix('claim');
  const keys = new HeartbeatKeys(prefix);
  const redis = new IORedis(REDIS_URL);
  const claim = (now: number, max: number, rate: number, lease = 5000) =>
    redis.eval(CLAIM_DUE_SCRIPT, 2, keys.schedule, keys.bucket, now, max, rate, rate, lease) as Promise<string[] | null>;

  afterAll(async () => {
    await redis.quit();
    await cleanupPrefix(prefix);
  });

  beforeEach(async () => {
    await redis.del(keys.schedule, keys.bucket);
  });

  it('claims only due members and leases them so a second claim gets none', async () => {
    await redis.zadd(keys.schedule, 1000, 'a', 2000, 'b', 9000, 'later');
    expect((await claim(2000, 10, 100))?.sort()).toEqual(['a', 'b']);
    expect(await claim(2001, 10, 100)).toEqual([]);
    expect(Number(await redis.zscore(keys.schedule, 'a'))).toBe(7000);
  });

  it('answers nil for an empty schedule and an empty list when tokens are scheduled but none is due', async () => {
    expect(await claim(1000, 10, 100)).toBeNull();
    await redis.zadd(keys.schedule, 5000, 'later');
    expect(await claim(1000, 10, 100)).toEqual([]);
  });

  it('never claims more than the token bucket holds, and refills at the rate', async () => {
    await redis.zadd(keys.schedule, ...Array.from({ length: 50 }, (_, i) => [0, `m${i}`]).flat());
    expect(await claim(10_000, 50, 5)).toHaveLength(5);
    expect(await claim(10_000, 50, 5)).toHaveLength(0);
    expect(await claim(10_400, 50, 5)).toHaveLength(2);
  });
});
