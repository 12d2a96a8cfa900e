import { LimitKeys } from '@bridge/common';
import { HeartbeatKeys } from '@bridge/heartbeat';
import { RELAY_GROUP, TaskRecords } from '@bridge/queue';
import IORedis from 'ioredis';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../../../test/support/redis';
import { describeTaskEnd, RelayOutcomes, tallyRelayOutcomes } from './relay-outcomes';

/** The chaos read-out's relay outcomes come from the bridge's task records, swept with SCAN. */
describe('relay outcomes in the chaos read-out (real Redis)', () => {
  const prefix = uniquePrefix('chaos-outcomes');
  const redis = new IORedis(REDIS_URL, { maxRetriesPerRequest: 3 });
  const records = new TaskRecords(redis, prefix, 300_000);
  const task = (id: string) => ({ taskToken: `token-${id}`, binding: 'b', queue: 'q', receivedAt: Date.now() });
  const unschedule = { schedule: new HeartbeatKeys(prefix).schedule, outstanding: new LimitKeys(prefix).outstanding('b') };

  afterAll(async () => {
    await redis.quit();
    await cleanupPrefix(prefix);
  });

  it('counts each task record once by how it closed, open ones as open, and keeps a closed end whose tombstone is gone', async () => {
    // Each task as the producer leaves it: its job (BullMQ's hash), then its record (written only with the job there).
    const ids = ['a', 'b', 'c', 'd'];
    await Promise.all(ids.map((id) => redis.hset(records.keys.job('q', id), 'name', 'x', 'timestamp', Date.now())));
    expect(await Promise.all(ids.map((id) => records.write(id, task(id))))).toEqual([true, true, true, true]);
    await records.claim('q', 'a', 'r1', 10_000, undefined, []);
    expect(await records.close('q', 'a', 'r1', { status: 'relayed', outcome: 'success' }, unschedule, RELAY_GROUP, [])).toBe(1);
    await records.claim('q', 'b', 'r1', 10_000, undefined, []);
    expect(
      await records.close('q', 'b', 'r1', { status: 'relayed', outcome: 'failure', error: 'ChaosDeclined' }, unschedule, RELAY_GROUP, []),
    ).toBe(1);
    expect(await records.cancel('c', 'TaskTimedOut')).toBe('cancelled');

    const outcomes = new RelayOutcomes(redis, prefix);
    await outcomes.sweep();
    expect(outcomes.tally()).toEqual({ 'relayed success': 1, 'relayed ChaosDeclined': 1, 'cancelled TaskTimedOut': 1, open: 1 });

    // The tombstone of `a` expires; `d` closes: the next sweep keeps `a` and sees `d` closed.
    await redis.del(records.keys.record('a'));
    await records.claim('q', 'd', 'r2', 10_000, undefined, []);
    await records.close('q', 'd', 'r2', { status: 'recovered', reason: 'TaskTimedOut' }, unschedule, RELAY_GROUP, []);
    await outcomes.sweep();
    expect({ tally: outcomes.tally(), d: outcomes.byJob.get('d') }).toEqual({
      tally: { 'relayed success': 1, 'relayed ChaosDeclined': 1, 'cancelled TaskTimedOut': 1, 'recovered TaskTimedOut': 1 },
      d: { closed: 'recovered', reason: 'TaskTimedOut', attempts: 1, owner: 'r2' },
    });
  });

  it('names a relayed end by its outcome and any other by status and reason', () => {
    expect(
      tallyRelayOutcomes([{ closed: 'relayed', reason: 'success' }, { closed: 'abandoned', reason: 'ThrottlingException' }, {}, {}]),
    ).toEqual({ 'relayed success': 1, 'abandoned ThrottlingException': 1, open: 2 });
  });

  it('says how a task record ended and after how many relay claims, for the read-out lines', () => {
    expect([
      describeTaskEnd({ closed: 'relayed', reason: 'success', attempts: 2, owner: 'r1' }),
      describeTaskEnd({ attempts: 0 }),
      describeTaskEnd(undefined),
    ]).toEqual(['relayed (success) after 2 relay claim(s), the last by r1', 'open after 0 relay claim(s)', 'no task record seen']);
  });
});
