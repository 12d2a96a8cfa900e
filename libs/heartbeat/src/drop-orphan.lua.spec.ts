import IORedis from 'ioredis';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../../../test/support/redis';
import { DROP_ORPHAN_SCRIPT } from './drop-orphan.lua';
import { HeartbeatKeys } from './heartbeat-keys';

describe('the orphan-entry drop script (real Redis)', () => {
  const prefix = uniquePrefix('orphan');
  const keys = new HeartbeatKeys(prefix);
  const relayKey = (id: string) => `${prefix}:relay:${id}`;
  const redis = new IORedis(REDIS_URL);
  const drop = (id: string, now: number) => redis.eval(DROP_ORPHAN_SCRIPT, 2, keys.schedule, relayKey(id), id, now) as Promise<number>;

  afterAll(async () => {
    await redis.quit();
    await cleanupPrefix(prefix);
  });

  beforeEach(async () => {
    await redis.del(keys.schedule, relayKey('a'));
  });

  it('drops the entry of a token that has no relay job', async () => {
    await redis.zadd(keys.schedule, 9000, 'a');
    const dropped = await drop('a', 1000);
    expect({ dropped, score: await redis.zscore(keys.schedule, 'a') }).toEqual({ dropped: 1, score: null });
  });

  it('keeps the entry, due now, when the relay job landed after the pass read it (a retried write)', async () => {
    await redis.zadd(keys.schedule, 9000, 'a'); // pushed a claim hold into the future
    await redis.hset(relayKey('a'), 'data', '{}');
    const kept = await drop('a', 1000);
    expect({ kept, score: await redis.zscore(keys.schedule, 'a') }).toEqual({ kept: 0, score: '1000' });
  });

  it('adds nothing when the entry is already gone (the relay closed the task meanwhile)', async () => {
    await redis.hset(relayKey('a'), 'data', '{}');
    await drop('a', 1000);
    expect(await redis.zscore(keys.schedule, 'a')).toBeNull();
  });
});
