/**
 * The write-check script (write-check.lua.ts) against a real Redis, on records written, claimed and
 * closed by TaskRecords itself: the read-back must see a task write where the producer writes it,
 * under the keys TaskKeys and HeartbeatKeys name.
 */
import { LimitKeys } from '@bridge/common';
import { HeartbeatKeys } from '@bridge/heartbeat';
import { jobIdForToken, RELAY_GROUP, TaskRecords, tombstoneMs } from '@bridge/queue';
import IORedis from 'ioredis';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../../../test/support/redis';
import { WRITE_CHECK_SCRIPT } from './write-check.lua';

const QUEUE = 'pay-q';

describe('the write-check script (real Redis, records written by TaskRecords)', () => {
  const redis = new IORedis(REDIS_URL);
  let prefix: string;
  let records: TaskRecords;
  let schedule: string;

  beforeEach(() => {
    prefix = uniquePrefix('wcheck');
    records = new TaskRecords(redis, prefix, tombstoneMs(10_000));
    schedule = new HeartbeatKeys(prefix).schedule;
  });
  afterEach(() => cleanupPrefix(prefix));
  afterAll(() => redis.quit());

  const check = (jobId: string) => redis.eval(WRITE_CHECK_SCRIPT, 2, records.keys.record(jobId), schedule, jobId);
  /** The producer's write of a task: its job (BullMQ's hash, as Queue.add leaves it), then its record, which must land. */
  const write = async (token: string) => {
    const jobId = jobIdForToken(token);
    await redis.hset(records.keys.job(QUEUE, jobId), 'name', 'pay', 'timestamp', Date.now());
    expect({ written: await records.write(jobId, { taskToken: token, binding: 'pay', queue: QUEUE, receivedAt: Date.now() }) }).toEqual({
      written: true,
    });
    return jobId;
  };

  it('answers missing when no record landed, whatever the schedule holds', async () => {
    const jobId = jobIdForToken('token-lost');
    await redis.zadd(schedule, 'NX', Date.now(), jobId);
    expect(await check(jobId)).toEqual([jobId, 'missing']);
  });

  it('answers unscheduled for a record without its schedule entry (the ZADD did not land)', async () => {
    const jobId = await write('token-unscheduled');
    expect(await check(jobId)).toEqual([jobId, 'unscheduled']);
  });

  it('answers written for a record and its schedule entry, echoing the job id first', async () => {
    const jobId = await write('token-written');
    await redis.zadd(schedule, 'NX', Date.now(), jobId);
    expect(await check(jobId)).toEqual([jobId, 'written']);
  });

  it('answers written for a record a relay is claiming (still open)', async () => {
    const jobId = await write('token-claimed');
    await redis.zadd(schedule, 'NX', Date.now(), jobId);
    expect((await records.claim(QUEUE, jobId, 'relay-a', 60_000, { kind: 'completed', value: '1' }, [])).state).toBe('claimed');
    expect(await check(jobId)).toEqual([jobId, 'written']);
  });

  it('answers closed for a record the relay closed and whose schedule entry it removed', async () => {
    const jobId = await write('token-closed');
    await redis.zadd(schedule, 'NX', Date.now(), jobId);
    const unschedule = { schedule, outstanding: new LimitKeys(prefix).outstanding('pay') };
    expect((await records.claim(QUEUE, jobId, 'relay-a', 60_000, undefined, [])).state).toBe('claimed');
    expect(await records.close(QUEUE, jobId, 'relay-a', { status: 'relayed', outcome: 'success' }, unschedule, RELAY_GROUP, [])).toBe(1);
    expect({ check: await check(jobId), scheduled: await redis.zscore(schedule, jobId) }).toEqual({
      check: [jobId, 'closed'],
      scheduled: null,
    });
  });

  it('answers closed for a record cancelled before the write check ran', async () => {
    const jobId = await write('token-cancelled');
    expect(await records.cancel(jobId, 'Bridge.EnqueueFailed')).toBe('cancelled');
    expect(await check(jobId)).toEqual([jobId, 'closed']);
  });

  it('answers closed for a tombstone the cancel left where no record was, even once a late write of the task lands on it', async () => {
    const jobId = jobIdForToken('token-failed-first');
    expect(await records.cancel(jobId, 'Bridge.EnqueueFailed')).toBe('cancelled');
    const before = await check(jobId);
    await write('token-failed-first');
    await redis.zadd(schedule, 'NX', Date.now(), jobId);
    expect({ before, after: await check(jobId) }).toEqual({ before: [jobId, 'closed'], after: [jobId, 'closed'] });
  });
});
