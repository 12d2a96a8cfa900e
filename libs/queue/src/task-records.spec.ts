/**
 * The task-record scripts (task-record.lua.ts) run through TaskRecords against a real Redis: the
 * record is the one owner of a task's relay state, so its claim / close / cancel / read steps are
 * checked where they run, with Redis' own clock (TIME) driving the leases.
 */
import IORedis from 'ioredis';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../../../test/support/redis';
import { waitFor } from '../../../test/support/wait-for';
import { RELAY_GROUP, TaskRecord } from './task-record';
import { ClaimResult, TaskRecords, tombstoneMs } from './task-records';

const QUEUE = 'pay-q';
const JOB = 'a'.repeat(64);
const TOMBSTONE_MS = tombstoneMs(10_000);
const LONG_LEASE_MS = 60_000;

const record = (over: Partial<TaskRecord> = {}): TaskRecord => ({
  taskToken: 'token-of-the-task',
  binding: 'pay',
  queue: QUEUE,
  receivedAt: 1_700_000_000_000,
  trace: '{"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}',
  ...over,
});

describe('TaskRecords (the task-record scripts, real Redis)', () => {
  const redis = new IORedis(REDIS_URL);
  let prefix: string;
  let records: TaskRecords;

  beforeEach(() => {
    prefix = uniquePrefix('records');
    records = new TaskRecords(redis, prefix, TOMBSTONE_MS);
  });
  afterEach(() => cleanupPrefix(prefix));
  afterAll(() => redis.quit());

  const hash = () => redis.hgetall(records.keys.record(JOB));
  const claimed = (result: ClaimResult) => {
    if (result.state !== 'claimed') throw new Error(`expected a claim, got ${JSON.stringify(result)}`);
    return result.task;
  };

  /** An entry of the queue's event stream read in the relay group, so it is pending until acknowledged. */
  async function pendingEntry(): Promise<string> {
    const stream = records.keys.events(QUEUE);
    await redis.xgroup('CREATE', stream, RELAY_GROUP, '$', 'MKSTREAM');
    const id = (await redis.xadd(stream, '*', 'event', 'completed', 'jobId', JOB))!;
    await redis.xreadgroup('GROUP', RELAY_GROUP, 'relay-a', 'COUNT', 10, 'STREAMS', stream, '>');
    return id;
  }
  const pendingCount = async () => Number(((await redis.xpending(records.keys.events(QUEUE), RELAY_GROUP)) as unknown[])[0]);

  describe('claim', () => {
    it('claims a written record: the task, attempts 1 and the job fields asked for, undefined where the job lacks one', async () => {
      await records.write(JOB, record());
      await redis.hset(records.keys.job(QUEUE, JOB), 'finishedOn', '1700000000500', 'failedReason', 'boom');
      const result = await records.claim(QUEUE, JOB, 'relay-a', LONG_LEASE_MS, ['finishedOn', 'returnvalue', 'failedReason']);
      expect(result).toEqual({
        state: 'claimed',
        task: { ...record(), attempts: 1, job: ['1700000000500', undefined, 'boom'] },
      });
      expect(await hash()).toMatchObject({ owner: 'relay-a', attempts: '1' });
    });

    it('answers undefined for every job field when the job hash is gone, and no trace when the record has none', async () => {
      await records.write(JOB, record({ trace: undefined }));
      const task = claimed(await records.claim(QUEUE, JOB, 'relay-a', LONG_LEASE_MS, ['finishedOn', 'returnvalue']));
      expect(task).toEqual({ ...record({ trace: undefined }), attempts: 1, job: [undefined, undefined] });
      expect('trace' in task).toBe(false);
    });

    it('answers busy to another owner while the lease runs, and changes nothing', async () => {
      await records.write(JOB, record());
      claimed(await records.claim(QUEUE, JOB, 'relay-a', LONG_LEASE_MS, []));
      const before = await hash();
      expect(await records.claim(QUEUE, JOB, 'relay-b', LONG_LEASE_MS, [])).toEqual({ state: 'busy' });
      expect(await hash()).toEqual(before);
    });

    it('lets the owner claim again while its lease runs (its own retry), counting attempt 2', async () => {
      await records.write(JOB, record());
      claimed(await records.claim(QUEUE, JOB, 'relay-a', LONG_LEASE_MS, []));
      const again = claimed(await records.claim(QUEUE, JOB, 'relay-a', LONG_LEASE_MS, []));
      expect({ attempts: again.attempts, owner: (await hash()).owner }).toEqual({ attempts: 2, owner: 'relay-a' });
    });

    it('lets another owner claim once the lease lapsed, counting every claim in attempts', async () => {
      await records.write(JOB, record());
      claimed(await records.claim(QUEUE, JOB, 'relay-a', LONG_LEASE_MS, []));
      claimed(await records.claim(QUEUE, JOB, 'relay-a', 50, []));
      let busy = 0;
      const taken = await waitFor(
        async () => {
          const result = await records.claim(QUEUE, JOB, 'relay-b', LONG_LEASE_MS, []);
          if (result.state === 'busy') busy++;
          return result.state === 'busy' ? undefined : result;
        },
        { timeoutMs: 5_000, intervalMs: 10, message: 'the 50 ms lease to lapse' },
      );
      expect({ attempts: claimed(taken).attempts, owner: (await hash()).owner, busyFirst: busy > 0 }).toEqual({
        attempts: 3,
        owner: 'relay-b',
        busyFirst: true,
      });
    });

    it('answers missing when there is no record', async () => {
      expect(await records.claim(QUEUE, JOB, 'relay-a', LONG_LEASE_MS, ['finishedOn'])).toEqual({ state: 'missing' });
      expect(await redis.exists(records.keys.record(JOB))).toBe(0);
    });

    it('answers closed, with the status, for a closed record', async () => {
      await records.write(JOB, record());
      claimed(await records.claim(QUEUE, JOB, 'relay-a', LONG_LEASE_MS, []));
      await records.close(QUEUE, JOB, 'relay-a', { status: 'expired', reason: 'TaskTimedOut' }, RELAY_GROUP, []);
      expect(await records.claim(QUEUE, JOB, 'relay-b', LONG_LEASE_MS, [])).toEqual({ state: 'closed', status: 'expired' });
    });
  });

  describe('close', () => {
    it('by a non-owner answers -1 and changes nothing, acknowledging nothing', async () => {
      await records.write(JOB, record());
      const entry = await pendingEntry();
      claimed(await records.claim(QUEUE, JOB, 'relay-a', LONG_LEASE_MS, []));
      const before = await hash();
      const result = await records.close(QUEUE, JOB, 'relay-b', { status: 'relayed', outcome: 'success' }, RELAY_GROUP, [entry]);
      expect({ result, pending: await pendingCount() }).toEqual({ result: -1, pending: 1 });
      expect(await hash()).toEqual(before);
    });

    it('by the owner answers 1: keeps closed and reason, drops token, lease and trace, expires, and acknowledges the entries', async () => {
      await records.write(JOB, record());
      const entry = await pendingEntry();
      claimed(await records.claim(QUEUE, JOB, 'relay-a', LONG_LEASE_MS, []));
      expect(await pendingCount()).toBe(1);
      const result = await records.close(QUEUE, JOB, 'relay-a', { status: 'relayed', outcome: 'success' }, RELAY_GROUP, [entry]);
      const fields = await hash();
      const ttl = await redis.pttl(records.keys.record(JOB));
      expect({
        result,
        closed: fields.closed,
        reason: fields.reason,
        gone: ['token', 'lease', 'trace'].filter((f) => f in fields),
        kept: { binding: fields.binding, queue: fields.queue },
        pending: await pendingCount(),
      }).toEqual({ result: 1, closed: 'relayed', reason: 'success', gone: [], kept: { binding: 'pay', queue: QUEUE }, pending: 0 });
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(TOMBSTONE_MS);
    });

    it.each([
      ['a relayed failure', 'relayed', 'PaymentDeclined', { status: 'relayed', outcome: 'failure', error: 'PaymentDeclined' } as const],
      ['a relayed failure without an error name', 'relayed', 'failure', { status: 'relayed', outcome: 'failure' } as const],
      ['an expired task', 'expired', 'TaskTimedOut', { status: 'expired', reason: 'TaskTimedOut' } as const],
      ['a recovered task', 'recovered', 'TaskDoesNotExist', { status: 'recovered', reason: 'TaskDoesNotExist' } as const],
      ['an abandoned task', 'abandoned', 'ThrottlingException', { status: 'abandoned', reason: 'ThrottlingException' } as const],
    ])('records %s as closed=%s, reason=%s', async (_, closed, reason, result) => {
      await records.write(JOB, record());
      claimed(await records.claim(QUEUE, JOB, 'relay-a', LONG_LEASE_MS, []));
      expect(await records.close(QUEUE, JOB, 'relay-a', result, RELAY_GROUP, [])).toBe(1);
      const fields = await hash();
      expect({ closed: fields.closed, reason: fields.reason, token: fields.token }).toEqual({ closed, reason, token: undefined });
    });

    it('answers 0 when closed again, keeping the first status, and still acknowledges the entries', async () => {
      await records.write(JOB, record());
      claimed(await records.claim(QUEUE, JOB, 'relay-a', LONG_LEASE_MS, []));
      expect(await records.close(QUEUE, JOB, 'relay-a', { status: 'relayed', outcome: 'success' }, RELAY_GROUP, [])).toBe(1);
      const entry = await pendingEntry();
      const again = await records.close(QUEUE, JOB, 'relay-a', { status: 'abandoned', reason: 'late' }, RELAY_GROUP, [entry]);
      const fields = await hash();
      expect({ again, closed: fields.closed, reason: fields.reason, pending: await pendingCount() }).toEqual({
        again: 0,
        closed: 'relayed',
        reason: 'success',
        pending: 0,
      });
    });
  });

  describe('cancel', () => {
    it('closes an unleased task as cancelled with the reason, without its token, as a tombstone', async () => {
      await records.write(JOB, record());
      const result = await records.cancel(JOB, 'the reason');
      const fields = await hash();
      const ttl = await redis.pttl(records.keys.record(JOB));
      expect({ result, closed: fields.closed, reason: fields.reason, token: fields.token, trace: fields.trace }).toEqual({
        result: 'cancelled',
        closed: 'cancelled',
        reason: 'the reason',
        token: undefined,
        trace: undefined,
      });
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(TOMBSTONE_MS);
      expect(await records.claim(QUEUE, JOB, 'relay-a', LONG_LEASE_MS, [])).toEqual({ state: 'closed', status: 'cancelled' });
    });

    it('answers relaying, changing nothing, while a relay holds the lease', async () => {
      await records.write(JOB, record());
      claimed(await records.claim(QUEUE, JOB, 'relay-a', LONG_LEASE_MS, []));
      const before = await hash();
      expect(await records.cancel(JOB, 'the reason')).toBe('relaying');
      expect(await hash()).toEqual(before);
    });

    it('cancels once the lease of a relay that stopped has lapsed', async () => {
      await records.write(JOB, record());
      claimed(await records.claim(QUEUE, JOB, 'relay-a', 50, []));
      const result = await waitFor(
        async () => {
          const answer = await records.cancel(JOB, 'the reason');
          return answer === 'relaying' ? undefined : answer;
        },
        { timeoutMs: 5_000, intervalMs: 10, message: 'the 50 ms lease to lapse' },
      );
      expect({ result, closed: (await hash()).closed }).toEqual({ result: 'cancelled', closed: 'cancelled' });
    });

    it('answers closed for a closed record, keeping its status', async () => {
      await records.write(JOB, record());
      claimed(await records.claim(QUEUE, JOB, 'relay-a', LONG_LEASE_MS, []));
      await records.close(QUEUE, JOB, 'relay-a', { status: 'relayed', outcome: 'success' }, RELAY_GROUP, []);
      expect(await records.cancel(JOB, 'the reason')).toBe('closed');
      expect(await hash()).toMatchObject({ closed: 'relayed', reason: 'success' });
    });

    it('answers closed for a missing record, creating none', async () => {
      expect(await records.cancel(JOB, 'the reason')).toBe('closed');
      expect(await redis.exists(records.keys.record(JOB))).toBe(0);
    });
  });

  describe('read', () => {
    it('answers missing when there is no record', async () => {
      expect(await records.read(JOB)).toEqual({ state: 'missing' });
    });

    it('answers closed with the status and the binding', async () => {
      await records.write(JOB, record());
      await records.cancel(JOB, 'the reason');
      expect(await records.read(JOB)).toEqual({ state: 'closed', status: 'cancelled', binding: 'pay' });
    });

    it('answers an open task whose job is not there: no lease, no finishedOn, gone since this read, Redis time', async () => {
      await records.write(JOB, record());
      const state = await records.read(JOB);
      expect(state).toEqual({
        state: 'open',
        task: record(),
        leaseUntil: 0,
        jobGoneSince: expect.any(Number),
        redisNow: expect.any(Number),
      });
      if (state.state !== 'open') throw new Error(`expected an open task, got ${state.state}`);
      expect({ goneAtThisRead: state.jobGoneSince === state.redisNow, clockSkew: Math.abs(state.redisNow - Date.now()) < 2_000 }).toEqual({
        goneAtThisRead: true,
        clockSkew: true,
      });
    });

    it('keeps the time a job was first found gone across later reads (a removed job is stranded from then, not from its take)', async () => {
      await records.write(JOB, record());
      const first = await records.read(JOB);
      await new Promise((resolve) => setTimeout(resolve, 5));
      const second = await records.read(JOB);
      if (first.state !== 'open' || second.state !== 'open') throw new Error(`expected open tasks, got ${first.state} / ${second.state}`);
      expect({ same: second.jobGoneSince === first.jobGoneSince, later: second.redisNow > first.redisNow }).toEqual({
        same: true,
        later: true,
      });
    });

    it('answers an open, claimed task whose job finished: its lease end and the job finishedOn', async () => {
      await records.write(JOB, record({ trace: undefined }));
      await redis.hset(records.keys.job(QUEUE, JOB), 'finishedOn', '1700000000500', 'name', 'pay');
      claimed(await records.claim(QUEUE, JOB, 'relay-a', LONG_LEASE_MS, []));
      const state = await records.read(JOB);
      if (state.state !== 'open') throw new Error(`expected an open task, got ${state.state}`);
      expect({ task: state.task, jobFinishedOn: state.jobFinishedOn, jobGoneSince: state.jobGoneSince }).toEqual({
        task: record({ trace: undefined }),
        jobFinishedOn: 1_700_000_000_500,
        jobGoneSince: undefined,
      });
      const leaseLeft = state.leaseUntil - state.redisNow;
      expect(leaseLeft).toBeGreaterThan(LONG_LEASE_MS - 2_000);
      expect(leaseLeft).toBeLessThanOrEqual(LONG_LEASE_MS);
    });

    it('answers a job still running (its hash there, no finishedOn) as existing and unfinished', async () => {
      await records.write(JOB, record());
      await redis.hset(records.keys.job(QUEUE, JOB), 'name', 'pay', 'processedOn', '1700000000100');
      const state = await records.read(JOB);
      expect(state).toMatchObject({ state: 'open' });
      expect({ finished: 'jobFinishedOn' in state, gone: 'jobGoneSince' in state }).toEqual({ finished: false, gone: false });
    });
  });
});

describe('tombstoneMs', () => {
  it.each([
    [0, 300_000],
    [60_000, 300_000],
    [240_000, 300_000],
    [600_000, 660_000],
  ])(
    'keeps a closed record past every retry of its write (retry for %i ms -> %i ms), and at least five minutes',
    (retryForMs, expected) => {
      expect(tombstoneMs(retryForMs)).toBe(expected);
    },
  );
});
