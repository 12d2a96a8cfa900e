/**
 * The task-record scripts (task-record.lua.ts) run through TaskRecords against a real Redis: the
 * record is the one owner of a task's relay state, so its write / claim / close / cancel / read steps are
 * checked where they run, with Redis' own clock (TIME) driving the leases.
 */
import { LimitKeys } from '@bridge/common';
import IORedis from 'ioredis';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../../../test/support/redis';
import { waitFor } from '../../../test/support/wait-for';
import { RELAY_GROUP, TaskRecord } from './task-record';
import { ClaimResult, JobEndHeard, TaskRecords, tombstoneMs } from './task-records';

const QUEUE = 'pay-q';
const JOB = 'a'.repeat(64);
/** Another task in the same schedule and outstanding set: a close must leave it there. */
const OTHER = 'b'.repeat(64);
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
  /** The heartbeat schedule and the binding's outstanding set, as HeartbeatSchedule.unscheduleKeys names them. */
  let unschedule: { schedule: string; outstanding: string };

  beforeEach(() => {
    prefix = uniquePrefix('records');
    records = new TaskRecords(redis, prefix, TOMBSTONE_MS);
    unschedule = { schedule: `${prefix}:sfn-bridge:heartbeats`, outstanding: new LimitKeys(prefix).outstanding('pay') };
  });
  afterEach(() => cleanupPrefix(prefix));
  afterAll(() => redis.quit());

  const hash = () => redis.hgetall(records.keys.record(JOB));
  /** BullMQ's hash of JOB on QUEUE, as Queue.add leaves it: the record's write lands only with it there. */
  const addJob = () => redis.hset(records.keys.job(QUEUE, JOB), 'name', 'pay', 'timestamp', Date.now());
  /** The producer's write of an existing task: its job, then its record (which must land). */
  async function writeTask(task: TaskRecord = record()): Promise<void> {
    await addJob();
    expect({ written: await records.write(JOB, task) }).toEqual({ written: true });
  }
  /** Removes JOB's job hash (the job done and removed, or never there), leaving its record. */
  const removeJob = async () => expect(await redis.del(records.keys.job(QUEUE, JOB))).toBe(1);
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

  /** JOB and OTHER in the heartbeat schedule and the outstanding set, as the producer leaves a task. */
  async function scheduleBoth(): Promise<void> {
    for (const key of [unschedule.schedule, unschedule.outstanding]) await redis.zadd(key, Date.now(), JOB, Date.now(), OTHER);
  }
  /** Which of JOB and OTHER the schedule and the outstanding set hold. */
  const scheduled = async () => ({
    schedule: (await redis.zrange(unschedule.schedule, 0, -1)).map((id) => id.slice(0, 1)),
    outstanding: (await redis.zrange(unschedule.outstanding, 0, -1)).map((id) => id.slice(0, 1)),
  });
  /** Claims JOB for `owner` until the claim is no longer busy (another owner's short lease lapsing). */
  const claimOnceFree = (owner: string, heard?: JobEndHeard) =>
    waitFor(
      async () => {
        const result = await records.claim(QUEUE, JOB, owner, LONG_LEASE_MS, heard, []);
        return result.state === 'busy' ? undefined : result;
      },
      { timeoutMs: 5_000, intervalMs: 10, message: 'the 50 ms lease to lapse' },
    );

  describe('write', () => {
    it("answers false and writes nothing (no record, no job hash) when the task's job is not in Redis", async () => {
      const written = await records.write(JOB, record());
      expect({
        written,
        record: await redis.exists(records.keys.record(JOB)),
        job: await redis.exists(records.keys.job(QUEUE, JOB)),
      }).toEqual({ written: false, record: 0, job: 0 });
    });

    it("answers false and writes nothing when the only job of that id is on another queue (the record's queue names the job)", async () => {
      await redis.hset(records.keys.job('other-q', JOB), 'name', 'pay', 'timestamp', Date.now());
      const written = await records.write(JOB, record());
      expect({ written, record: await redis.exists(records.keys.record(JOB)) }).toEqual({ written: false, record: 0 });
    });

    it.each([
      ['with a trace', record(), { trace: record().trace }],
      ['without a trace (no trace field)', record({ trace: undefined }), {}],
    ])("answers true and writes the task's fields %s when its job is there, leaving the job as it was", async (_, task, trace) => {
      await addJob();
      const job = await redis.hgetall(records.keys.job(QUEUE, JOB));
      const written = await records.write(JOB, task);
      expect({ written, fields: await hash(), job: await redis.hgetall(records.keys.job(QUEUE, JOB)) }).toEqual({
        written: true,
        fields: { token: 'token-of-the-task', binding: 'pay', queue: QUEUE, receivedAt: '1700000000000', ...trace },
        job,
      });
    });
  });

  describe('claim', () => {
    it('claims a written record: the task, attempts 1 and the job fields asked for, undefined where the job lacks one', async () => {
      await writeTask(record());
      await redis.hset(records.keys.job(QUEUE, JOB), 'finishedOn', '1700000000500', 'failedReason', 'boom');
      const result = await records.claim(QUEUE, JOB, 'relay-a', LONG_LEASE_MS, undefined, ['finishedOn', 'returnvalue', 'failedReason']);
      expect(result).toEqual({
        state: 'claimed',
        task: { ...record(), attempts: 1, job: ['1700000000500', undefined, 'boom'] },
      });
      expect(await hash()).toMatchObject({ owner: 'relay-a', attempts: '1' });
    });

    it('answers undefined for every job field when the job hash is gone, and no trace when the record has none', async () => {
      await writeTask(record({ trace: undefined }));
      await removeJob();
      const task = claimed(await records.claim(QUEUE, JOB, 'relay-a', LONG_LEASE_MS, undefined, ['finishedOn', 'returnvalue']));
      expect(task).toEqual({ ...record({ trace: undefined }), attempts: 1, job: [undefined, undefined] });
      expect('trace' in task).toBe(false);
    });

    it('answers busy to another owner while the lease runs, and changes nothing', async () => {
      await writeTask(record());
      claimed(await records.claim(QUEUE, JOB, 'relay-a', LONG_LEASE_MS, undefined, []));
      const before = await hash();
      expect(await records.claim(QUEUE, JOB, 'relay-b', LONG_LEASE_MS, undefined, [])).toEqual({ state: 'busy' });
      expect(await hash()).toEqual(before);
    });

    it('lets the owner claim again while its lease runs (its own retry), counting attempt 2', async () => {
      await writeTask(record());
      claimed(await records.claim(QUEUE, JOB, 'relay-a', LONG_LEASE_MS, undefined, []));
      const again = claimed(await records.claim(QUEUE, JOB, 'relay-a', LONG_LEASE_MS, undefined, []));
      expect({ attempts: again.attempts, owner: (await hash()).owner }).toEqual({ attempts: 2, owner: 'relay-a' });
    });

    it('lets another owner claim once the lease lapsed, counting every claim in attempts', async () => {
      await writeTask(record());
      claimed(await records.claim(QUEUE, JOB, 'relay-a', LONG_LEASE_MS, undefined, []));
      claimed(await records.claim(QUEUE, JOB, 'relay-a', 50, undefined, []));
      let busy = 0;
      const taken = await waitFor(
        async () => {
          const result = await records.claim(QUEUE, JOB, 'relay-b', LONG_LEASE_MS, undefined, []);
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
      expect(await records.claim(QUEUE, JOB, 'relay-a', LONG_LEASE_MS, undefined, ['finishedOn'])).toEqual({ state: 'missing' });
      expect(await redis.exists(records.keys.record(JOB))).toBe(0);
    });

    it('answers closed, with the status, for a closed record', async () => {
      await writeTask(record());
      claimed(await records.claim(QUEUE, JOB, 'relay-a', LONG_LEASE_MS, undefined, []));
      await records.close(QUEUE, JOB, 'relay-a', { status: 'expired', reason: 'TaskTimedOut' }, unschedule, RELAY_GROUP, []);
      expect(await records.claim(QUEUE, JOB, 'relay-b', LONG_LEASE_MS, undefined, [])).toEqual({ state: 'closed', status: 'expired' });
    });

    describe('how the job ended (heard by the claim, kept in the record)', () => {
      it('keeps what the first claim that heard it passes (end, value), returning nothing kept to that claim', async () => {
        await writeTask(record());
        const task = claimed(await records.claim(QUEUE, JOB, 'relay-a', LONG_LEASE_MS, { kind: 'completed', value: '{"ok":true}' }, []));
        const fields = await hash();
        expect({ kept: 'kept' in task, end: fields.end, value: fields.value }).toEqual({
          kept: false,
          end: 'completed',
          value: '{"ok":true}',
        });
      });

      it('keeps nothing for a claim that does not know how the job ended', async () => {
        await writeTask(record());
        const task = claimed(await records.claim(QUEUE, JOB, 'relay-a', LONG_LEASE_MS, undefined, []));
        const fields = await hash();
        expect({ kept: 'kept' in task, fields: ['end', 'value'].filter((f) => f in fields) }).toEqual({ kept: false, fields: [] });
      });

      it.each([
        ['does not know how the job ended (a heartbeat find)', undefined],
        ['heard only removed (the job removed after it ended)', { kind: 'removed', value: '' } as const],
      ])(
        'gives the kept end back to a later claim, by another replica once the lease lapsed, that %s',
        async (_, heard: JobEndHeard | undefined) => {
          await writeTask(record());
          claimed(await records.claim(QUEUE, JOB, 'relay-a', 50, { kind: 'failed', value: 'boom' }, []));
          const task = claimed(await claimOnceFree('relay-b', heard));
          const fields = await hash();
          expect({ kept: task.kept, attempts: task.attempts, end: fields.end, value: fields.value }).toEqual({
            kept: { kind: 'failed', value: 'boom' },
            attempts: 2,
            end: 'failed',
            value: 'boom',
          });
        },
      );

      it.each([
        ['completed', { kind: 'completed', value: '"again"' } as const],
        ['failed', { kind: 'failed', value: 'later' } as const],
      ])('gives no kept end to a later claim that heard %s itself, and keeps the first end as it was', async (_, heard) => {
        await writeTask(record());
        claimed(await records.claim(QUEUE, JOB, 'relay-a', LONG_LEASE_MS, { kind: 'completed', value: '"first"' }, []));
        const task = claimed(await records.claim(QUEUE, JOB, 'relay-a', LONG_LEASE_MS, heard, []));
        const fields = await hash();
        expect({ kept: 'kept' in task, attempts: task.attempts, end: fields.end, value: fields.value }).toEqual({
          kept: false,
          attempts: 2,
          end: 'completed',
          value: '"first"',
        });
      });

      it('keeps a removed end too: a later claim that does not know gets it back with an empty value', async () => {
        await writeTask(record());
        claimed(await records.claim(QUEUE, JOB, 'relay-a', LONG_LEASE_MS, { kind: 'removed', value: '' }, []));
        const task = claimed(await records.claim(QUEUE, JOB, 'relay-a', LONG_LEASE_MS, undefined, []));
        expect(task.kept).toEqual({ kind: 'removed', value: '' });
      });

      it('does not keep the end a busy claim heard (the lease holder keeps what it heard, or nothing)', async () => {
        await writeTask(record());
        claimed(await records.claim(QUEUE, JOB, 'relay-a', LONG_LEASE_MS, undefined, []));
        expect(await records.claim(QUEUE, JOB, 'relay-b', LONG_LEASE_MS, { kind: 'completed', value: '1' }, [])).toEqual({ state: 'busy' });
        const fields = await hash();
        expect(['end', 'value'].filter((f) => f in fields)).toEqual([]);
      });
    });
  });

  describe('close', () => {
    it('by a non-owner answers -1 and changes nothing: record, schedule and outstanding set as they were, nothing acknowledged', async () => {
      await writeTask(record());
      await scheduleBoth();
      const entry = await pendingEntry();
      claimed(await records.claim(QUEUE, JOB, 'relay-a', LONG_LEASE_MS, { kind: 'completed', value: '1' }, []));
      const before = await hash();
      const result = await records.close(QUEUE, JOB, 'relay-b', { status: 'relayed', outcome: 'success' }, unschedule, RELAY_GROUP, [
        entry,
      ]);
      expect({ result, pending: await pendingCount(), ...(await scheduled()) }).toEqual({
        result: -1,
        pending: 1,
        schedule: ['a', 'b'],
        outstanding: ['a', 'b'],
      });
      expect(await hash()).toEqual(before);
    });

    it('by the owner answers 1: keeps closed and reason, drops token, lease, trace and the kept end, expires, unschedules and acknowledges', async () => {
      await writeTask(record());
      await scheduleBoth();
      const entry = await pendingEntry();
      claimed(await records.claim(QUEUE, JOB, 'relay-a', LONG_LEASE_MS, { kind: 'completed', value: '{"ok":true}' }, []));
      expect({ pending: await pendingCount(), end: (await hash()).end }).toEqual({ pending: 1, end: 'completed' });
      const result = await records.close(QUEUE, JOB, 'relay-a', { status: 'relayed', outcome: 'success' }, unschedule, RELAY_GROUP, [
        entry,
      ]);
      const fields = await hash();
      const ttl = await redis.pttl(records.keys.record(JOB));
      expect({
        result,
        closed: fields.closed,
        reason: fields.reason,
        gone: ['token', 'lease', 'trace', 'end', 'value'].filter((f) => f in fields),
        kept: { binding: fields.binding, queue: fields.queue },
        pending: await pendingCount(),
        // Only this task leaves the schedule and its binding's outstanding set.
        ...(await scheduled()),
      }).toEqual({
        result: 1,
        closed: 'relayed',
        reason: 'success',
        gone: [],
        kept: { binding: 'pay', queue: QUEUE },
        pending: 0,
        schedule: ['b'],
        outstanding: ['b'],
      });
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
      await writeTask(record());
      claimed(await records.claim(QUEUE, JOB, 'relay-a', LONG_LEASE_MS, undefined, []));
      expect(await records.close(QUEUE, JOB, 'relay-a', result, unschedule, RELAY_GROUP, [])).toBe(1);
      const fields = await hash();
      expect({ closed: fields.closed, reason: fields.reason, token: fields.token }).toEqual({ closed, reason, token: undefined });
    });

    it('answers 0 when closed again, keeping the first status, and still unschedules the task and acknowledges the entries', async () => {
      await writeTask(record());
      claimed(await records.claim(QUEUE, JOB, 'relay-a', LONG_LEASE_MS, undefined, []));
      expect(await records.close(QUEUE, JOB, 'relay-a', { status: 'relayed', outcome: 'success' }, unschedule, RELAY_GROUP, [])).toBe(1);
      // Entries written again after the first close (a replica re-seeding its memory after an outage).
      await scheduleBoth();
      const entry = await pendingEntry();
      const again = await records.close(QUEUE, JOB, 'relay-a', { status: 'abandoned', reason: 'late' }, unschedule, RELAY_GROUP, [entry]);
      const fields = await hash();
      expect({ again, closed: fields.closed, reason: fields.reason, pending: await pendingCount(), ...(await scheduled()) }).toEqual({
        again: 0,
        closed: 'relayed',
        reason: 'success',
        pending: 0,
        schedule: ['b'],
        outstanding: ['b'],
      });
    });
  });

  describe('cancel', () => {
    it('closes an unleased task as cancelled with the reason, without its token, as a tombstone', async () => {
      await writeTask(record());
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
      expect(await records.claim(QUEUE, JOB, 'relay-a', LONG_LEASE_MS, undefined, [])).toEqual({ state: 'closed', status: 'cancelled' });
    });

    it('answers relaying, changing nothing, while a relay holds the lease', async () => {
      await writeTask(record());
      claimed(await records.claim(QUEUE, JOB, 'relay-a', LONG_LEASE_MS, undefined, []));
      const before = await hash();
      expect(await records.cancel(JOB, 'the reason')).toBe('relaying');
      expect(await hash()).toEqual(before);
    });

    it('cancels once the lease of a relay that stopped has lapsed, dropping the end that relay kept', async () => {
      await writeTask(record());
      claimed(await records.claim(QUEUE, JOB, 'relay-a', 50, { kind: 'failed', value: 'boom' }, []));
      const result = await waitFor(
        async () => {
          const answer = await records.cancel(JOB, 'the reason');
          return answer === 'relaying' ? undefined : answer;
        },
        { timeoutMs: 5_000, intervalMs: 10, message: 'the 50 ms lease to lapse' },
      );
      const fields = await hash();
      expect({ result, closed: fields.closed, gone: ['token', 'lease', 'end', 'value'].filter((f) => f in fields) }).toEqual({
        result: 'cancelled',
        closed: 'cancelled',
        gone: [],
      });
    });

    it('answers closed for a closed record, keeping its status', async () => {
      await writeTask(record());
      claimed(await records.claim(QUEUE, JOB, 'relay-a', LONG_LEASE_MS, undefined, []));
      await records.close(QUEUE, JOB, 'relay-a', { status: 'relayed', outcome: 'success' }, unschedule, RELAY_GROUP, []);
      expect(await records.cancel(JOB, 'the reason')).toBe('closed');
      expect(await hash()).toMatchObject({ closed: 'relayed', reason: 'success' });
    });

    it('closes a missing record too, answering cancelled: a tombstone (cancelled, the reason, a TTL) that a write landing later finds closed', async () => {
      expect(await records.cancel(JOB, 'Bridge.EnqueueFailed')).toBe('cancelled');
      const fields = await hash();
      const ttl = await redis.pttl(records.keys.record(JOB));
      expect({ fields, ttlSet: ttl > 0 && ttl <= TOMBSTONE_MS }).toEqual({
        fields: { closed: 'cancelled', reason: 'Bridge.EnqueueFailed' },
        ttlSet: true,
      });
      // The producer's write of the task lands late (its job with it): it neither reopens the record nor clears its expiry.
      await writeTask(record());
      const late = await redis.pttl(records.keys.record(JOB));
      expect({
        claim: await records.claim(QUEUE, JOB, 'relay-a', LONG_LEASE_MS, { kind: 'completed', value: '1' }, []),
        read: await records.read(JOB),
        cancelAgain: await records.cancel(JOB, 'TaskTimedOut'),
        expires: late > 0 && late <= TOMBSTONE_MS,
      }).toEqual({
        claim: { state: 'closed', status: 'cancelled' },
        read: { state: 'closed', status: 'cancelled', binding: 'pay' },
        cancelAgain: 'closed',
        expires: true,
      });
      // That cancel (the producer's late-write cancel) takes the token the late write put back out again.
      expect(await redis.hget(records.keys.record(JOB), 'token')).toBeNull();
    });
  });

  describe('read', () => {
    it('answers missing when there is no record', async () => {
      expect(await records.read(JOB)).toEqual({ state: 'missing' });
    });

    it('answers closed with the status and the binding', async () => {
      await writeTask(record());
      await records.cancel(JOB, 'the reason');
      expect(await records.read(JOB)).toEqual({ state: 'closed', status: 'cancelled', binding: 'pay' });
    });

    it('answers an open task whose job is not there: no lease, no finishedOn, gone since this read, Redis time', async () => {
      await writeTask(record());
      await removeJob();
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
      await writeTask(record());
      await removeJob();
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
      await writeTask(record({ trace: undefined }));
      await redis.hset(records.keys.job(QUEUE, JOB), 'finishedOn', '1700000000500', 'name', 'pay');
      claimed(await records.claim(QUEUE, JOB, 'relay-a', LONG_LEASE_MS, undefined, []));
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

    it('clears the gone mark when the job of an open task is found again, so jobGoneSince is undefined again', async () => {
      await writeTask(record());
      await removeJob();
      const first = await records.read(JOB);
      const markedGone = 'gone' in (await hash());
      await redis.hset(records.keys.job(QUEUE, JOB), 'name', 'pay', 'processedOn', '1700000000100');
      const second = await records.read(JOB);
      expect({
        first: first.state === 'open' && first.jobGoneSince !== undefined,
        markedGone,
        second: second.state === 'open' && { jobGoneSince: second.jobGoneSince, hasKey: 'jobGoneSince' in second },
        markLeft: 'gone' in (await hash()),
      }).toEqual({ first: true, markedGone: true, second: { jobGoneSince: undefined, hasKey: false }, markLeft: false });
    });

    it('answers a job still running (its hash there, no finishedOn) as existing and unfinished', async () => {
      await writeTask(record());
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
