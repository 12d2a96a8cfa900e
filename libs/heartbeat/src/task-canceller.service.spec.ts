import { LimitKeys } from '@bridge/common';
import { BridgeConfig, loadConfig } from '@bridge/config';
import { BridgeMetrics } from '@bridge/metrics';
import { jobIdForToken, RELAY_GROUP, TaskRecord, TaskRecords, tombstoneMs } from '@bridge/queue';
import { Job, Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../../../test/support/redis';
import { HeartbeatSchedule } from './heartbeat-schedule.service';
import { TaskCanceller } from './task-canceller.service';

const ARN = 'arn:aws:states:us-east-1:123456789012:activity:unit';

/**
 * TaskCanceller against real Redis and a real BullMQ binding queue: the record script decides
 * whether a task is cancelled, BullMQ whether its job can be removed. Each test its own prefix.
 */
describe('TaskCanceller (real Redis, real BullMQ)', () => {
  const redis = new IORedis(REDIS_URL, { maxRetriesPerRequest: null });
  const opened: { prefix: string; queue: Queue; workers: Worker[] }[] = [];

  afterEach(async () => {
    jest.restoreAllMocks();
    for (const { prefix, queue, workers } of opened.splice(0)) {
      await Promise.all(workers.map((w) => w.close(true)));
      await queue.close();
      await cleanupPrefix(prefix);
    }
  });

  afterAll(async () => {
    await redis.quit();
  });

  function setup(label: string) {
    const prefix = uniquePrefix(label);
    const config: BridgeConfig = loadConfig({
      BULLMQ_PREFIX: prefix,
      BRIDGE_BINDINGS: `bindings:\n  - activityArn: ${ARN}\n    queue: unit\n    heartbeatSeconds: 2\n`,
    });
    const queue = new Queue('unit', { connection: redis, prefix });
    const workers: Worker[] = [];
    opened.push({ prefix, queue, workers });
    const schedule = new HeartbeatSchedule(redis, config);
    const metrics = new BridgeMetrics();
    const canceller = new TaskCanceller(config, redis, new Map([['unit', queue]]), schedule, metrics);
    const records = new TaskRecords(redis, prefix, tombstoneMs(config.enqueue.retryForMs));
    const outstanding = new LimitKeys(prefix).outstanding('unit');

    /** A task as the producer leaves it: its job waiting, its record open, scheduled, outstanding. */
    async function take(token: string): Promise<{ jobId: string; task: TaskRecord }> {
      const jobId = jobIdForToken(token);
      const task: TaskRecord = { taskToken: token, binding: 'unit', queue: 'unit', receivedAt: Date.now() };
      await queue.add('task', { n: 1 }, { jobId });
      // The record is written only with its job there (as the producer's write leaves it).
      expect({ jobId, written: await records.write(jobId, task) }).toEqual({ jobId, written: true });
      await schedule.writeEntry(redis, jobId, Date.now() + 2_000);
      await redis.zadd(outstanding, Date.now(), jobId);
      return { jobId, task };
    }

    /** Moves the next waiting job to active, as a consumer taking it would (it holds the lock). */
    async function startNext(): Promise<Job> {
      const worker = new Worker('unit', undefined, { connection: redis, prefix, autorun: false });
      workers.push(worker);
      const job = await worker.getNextJob('consumer-token', { block: false });
      if (!job) throw new Error('no waiting job to start');
      return job;
    }

    /** What the cancellation left in Redis for `jobId`. */
    async function after(jobId: string) {
      const record = await redis.hgetall(records.keys.record(jobId));
      const job = await Job.fromId(queue, jobId);
      return {
        record: { closed: record.closed, reason: record.reason, token: record.token === undefined ? 'gone' : 'kept' },
        job: job ? await job.getState() : 'gone',
        scheduled: await redis.zscore(schedule.keys.schedule, jobId),
        outstanding: await redis.zscore(outstanding, jobId),
        flag: await redis.get(schedule.keys.cancelled(jobId)),
      };
    }

    const cancelledCount = async () =>
      (await metrics.relays.get()).values.filter((v) => v.labels.outcome === 'cancelled').reduce((n, v) => n + v.value, 0);

    return { prefix, queue, schedule, records, canceller, take, startNext, after, cancelledCount };
  }

  it('removes a job no consumer started, closes its record as cancelled with the reason, and stops its heartbeats', async () => {
    const s = setup('cancel-waiting');
    const { jobId, task } = await s.take('token-waiting');
    const outcome = await s.canceller.cancel(jobId, task, 'TaskTimedOut');
    expect({ outcome, ...(await s.after(jobId)), cancelled: await s.cancelledCount() }).toEqual({
      outcome: 'removed',
      record: { closed: 'cancelled', reason: 'TaskTimedOut', token: 'gone' },
      job: 'gone',
      scheduled: null,
      outstanding: null,
      flag: 'TaskTimedOut',
      cancelled: 1,
    });
    // The closed record is a tombstone: it expires.
    expect(await redis.pttl(s.records.keys.record(jobId))).toBeGreaterThan(0);
  });

  it('flags an active job for its consumer instead of removing it', async () => {
    const s = setup('cancel-active');
    const { jobId, task } = await s.take('token-active');
    await s.startNext();
    const outcome = await s.canceller.cancel(jobId, task, 'TaskDoesNotExist');
    expect({ outcome, ...(await s.after(jobId)), cancelled: await s.cancelledCount() }).toEqual({
      outcome: 'flagged',
      record: { closed: 'cancelled', reason: 'TaskDoesNotExist', token: 'gone' },
      job: 'active',
      scheduled: null,
      outstanding: null,
      flag: 'TaskDoesNotExist',
      cancelled: 1,
    });
  });

  it('flags a job a consumer picked up between the state read and the removal', async () => {
    const s = setup('cancel-race');
    const { jobId, task } = await s.take('token-race');
    await s.startNext();
    // The state read saw it waiting; the consumer's lock then makes BullMQ refuse the removal.
    const read = jest.spyOn(Job.prototype, 'getState').mockResolvedValueOnce('waiting');
    const outcome = await s.canceller.cancel(jobId, task, 'TaskTimedOut');
    expect({ outcome, reads: read.mock.calls.length, job: (await s.after(jobId)).job }).toEqual({
      outcome: 'flagged',
      reads: 1,
      job: 'active',
    });
  });

  it('reports finished when the job already completed or is gone, and still closes the record as cancelled', async () => {
    const s = setup('cancel-finished');
    const done = await s.take('token-done');
    const job = await s.startNext();
    await job.moveToCompleted({ ok: true }, 'consumer-token', false);
    const gone = await s.take('token-gone');
    await (await Job.fromId(s.queue, gone.jobId))!.remove();

    const outcomes = [
      await s.canceller.cancel(done.jobId, done.task, 'TaskTimedOut'),
      await s.canceller.cancel(gone.jobId, gone.task, 'TaskTimedOut'),
    ];
    const [doneAfter, goneAfter] = [await s.after(done.jobId), await s.after(gone.jobId)];
    expect({
      outcomes,
      jobs: [doneAfter.job, goneAfter.job],
      records: [doneAfter.record.closed, goneAfter.record.closed],
      cancelled: await s.cancelledCount(),
    }).toEqual({
      outcomes: ['finished', 'finished'],
      jobs: ['completed', 'gone'],
      records: ['cancelled', 'cancelled'],
      cancelled: 2,
    });
  });

  it('does not cancel a task whose record closed already (relayed meanwhile), but removes its schedule entry', async () => {
    const s = setup('cancel-closed');
    const { jobId, task } = await s.take('token-closed');
    expect((await s.records.claim('unit', jobId, 'relay-replica', 10_000, undefined, [])).state).toBe('claimed');
    const unschedule = s.schedule.unscheduleKeys('unit');
    expect(
      await s.records.close('unit', jobId, 'relay-replica', { status: 'relayed', outcome: 'success' }, unschedule, RELAY_GROUP, []),
    ).toBe(1);
    // The relay's close unscheduled it; an entry written again since (a replica re-seeding its
    // memory after an outage) is the canceller's to remove.
    const closedBy = {
      scheduled: await redis.zscore(unschedule.schedule, jobId),
      outstanding: await redis.zscore(unschedule.outstanding, jobId),
    };
    expect(closedBy).toEqual({ scheduled: null, outstanding: null });
    await s.schedule.writeEntry(redis, jobId, Date.now() + 2_000);

    const outcome = await s.canceller.cancel(jobId, task, 'TaskTimedOut');
    expect({ outcome, ...(await s.after(jobId)), cancelled: await s.cancelledCount() }).toEqual({
      outcome: undefined,
      record: { closed: 'relayed', reason: 'success', token: 'gone' },
      job: 'waiting',
      scheduled: null,
      outstanding: null,
      flag: null,
      cancelled: 0,
    });
  });

  it('does not cancel a task whose relay holds a live lease, and keeps it scheduled until that relay closes it', async () => {
    const s = setup('cancel-leased');
    const { jobId, task } = await s.take('token-leased');
    expect((await s.records.claim('unit', jobId, 'relay-replica', 10_000, undefined, [])).state).toBe('claimed');

    const outcome = await s.canceller.cancel(jobId, task, 'TaskTimedOut');
    expect({ outcome, ...(await s.after(jobId)), cancelled: await s.cancelledCount() }).toEqual({
      outcome: undefined,
      record: { closed: undefined, reason: undefined, token: 'kept' },
      job: 'waiting',
      scheduled: expect.any(String),
      outstanding: expect.any(String),
      flag: null,
      cancelled: 0,
    });
  });
});
