import IORedis from 'ioredis';
import { LimitKeys } from '@bridge/common';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../../../test/support/redis';
import { LEAVE_SCRIPT, RELEASE_SCRIPT, RENEW_SCRIPT, RESERVE_SCRIPT, SWEEP_SCRIPT, TAKEN_SCRIPT } from './reservation.lua';

describe('the maxPending reservation scripts (real Redis)', () => {
  const prefix = uniquePrefix('slots');
  const keys = new LimitKeys(prefix);
  const redis = new IORedis(REDIS_URL);
  const o = keys.outstanding('pay');
  const p = keys.polls('pay');
  const reserve = (replica: string, want: number, max: number, cap = 1000) =>
    redis.eval(RESERVE_SCRIPT, 2, o, p, replica, want, max, cap) as Promise<[number, number]>;
  const taken = (replica: string, jobId: string, max: number) =>
    redis.eval(TAKEN_SCRIPT, 2, o, p, replica, jobId, 1000, max) as Promise<[number, number]>;
  const renew = (replica: string, now: number, slots: number) =>
    redis.eval(RENEW_SCRIPT, 2, keys.replicas, p, replica, now, 6000, slots) as Promise<[number, number]>;
  const slots = async () => redis.hgetall(p);

  afterAll(async () => {
    await redis.quit();
    await cleanupPrefix(prefix);
  });

  beforeEach(async () => {
    await redis.del(o, p, keys.replicas);
  });

  it('grants slots only while outstanding + slots of every replica < maxPending', async () => {
    await redis.zadd(o, 0, 'x', 0, 'y');
    expect(await reserve('a', 3, 5)).toEqual([3, 2]);
    expect(await reserve('b', 3, 5)).toEqual([0, 2]);
    await redis.zrem(o, 'x'); // a task closed
    expect(await reserve('b', 3, 5)).toEqual([1, 1]);
    expect(await slots()).toEqual({ a: '3', b: '1', '*': '4' });
  });

  it('never grants more than 1,000 slots per activity over all replicas, whatever maxPending', async () => {
    expect(await reserve('a', 700, 100_000)).toEqual([700, 0]);
    expect(await reserve('b', 700, 100_000)).toEqual([300, 0]);
  });

  it('a taken task keeps its slot while there is room, gives it back when not, and a retried write repeats the first answer', async () => {
    await reserve('a', 2, 3);
    expect(await taken('a', 'j1', 3)).toEqual([1, 1]); // 1 outstanding + 2 slots = 3: kept
    expect(await taken('a', 'j2', 3)).toEqual([0, 2]); // would be 4: the slot goes with the task
    expect(await taken('a', 'j2', 3)).toEqual([0, 2]); // retry: same answer, nothing counted twice
    expect({ slots: await slots(), outstanding: await redis.zcard(o) }).toEqual({ slots: { a: '1', '*': '1' }, outstanding: 2 });
  });

  it('gives back at most the slots a replica holds', async () => {
    await reserve('a', 2, 10);
    expect(await redis.eval(RELEASE_SCRIPT, 1, p, 'a', 5)).toBe(2);
    expect(await slots()).toEqual({ a: '0', '*': '0' });
  });

  it("purges a dead replica's slots at the next renewal after its lease, not before", async () => {
    await renew('dead', 1_000, 0);
    await renew('live', 1_000, 0);
    await reserve('dead', 4, 5);
    expect(await reserve('live', 4, 5)).toEqual([1, 0]);
    await renew('live', 6_500, 1); // dead's lease (until 7,000) still holds
    expect(await reserve('live', 4, 5)).toEqual([0, 0]);
    expect(await renew('live', 7_500, 1)).toEqual([1, 0]);
    expect({ slots: await slots(), granted: await reserve('live', 4, 5) }).toEqual({ slots: { live: '1', '*': '1' }, granted: [4, 0] });
  });

  it('a replica whose lease lapsed and was purged re-asserts the slots it still holds', async () => {
    await renew('slow', 0, 0);
    await reserve('slow', 2, 10);
    await renew('other', 7_000, 0); // purges slow
    expect(await slots()).toEqual({ '*': '0' });
    expect(await renew('slow', 7_100, 2)).toEqual([0, 1]);
    expect(await slots()).toEqual({ slow: '2', '*': '2' });
  });

  it('the sweep drops outstanding tasks the heartbeat schedule no longer holds, and only those', async () => {
    const schedule = `${prefix}:sfn-bridge:heartbeats`;
    await redis.zadd(o, 0, 'open', 0, 'closed');
    await redis.zadd(schedule, '5', 'open');
    expect(await redis.eval(SWEEP_SCRIPT, 2, o, schedule)).toBe(1);
    expect(await redis.zrange(o, '0', '-1')).toEqual(['open']);
    await redis.del(schedule);
  });

  it('a replica leaving gives every slot back at once', async () => {
    await renew('a', 0, 0);
    await reserve('a', 3, 10);
    await redis.eval(LEAVE_SCRIPT, 2, keys.replicas, p, 'a');
    expect({ slots: await slots(), replicas: await redis.zcard(keys.replicas) }).toEqual({ slots: { '*': '0' }, replicas: 0 });
  });
});
