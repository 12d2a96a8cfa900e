import { LimitKeys } from '@bridge/common';
import { HeartbeatKeys } from '@bridge/heartbeat';
import { RELAY_GROUP, TaskRecords } from '@bridge/queue';
import { Queue, QueueEvents, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../../../test/support/redis';
import { within } from '../../../test/support/wait-for';
import { compareStreamIds, TaskStateReader } from './task-state';

/**
 * The read-out of a stuck task (an execution left RUNNING): task record, job, the job's events as
 * the relay's consumer group holds them, and the heartbeat-schedule entry, from real Redis.
 */
describe('stuck-task read-out (real Redis)', () => {
  const prefix = uniquePrefix('chaos-state');
  const redis = new IORedis(REDIS_URL, { maxRetriesPerRequest: null });
  const records = new TaskRecords(redis, prefix, 300_000);
  const queue = new Queue('work', { connection: redis, prefix });
  const events = records.keys.events('work');
  const token = 'secret-token-never-printed';

  afterAll(async () => {
    await queue.close();
    await redis.quit();
    await cleanupPrefix(prefix);
  });

  it('describes an open task whose finished job a replica read but never closed, and the same task once closed', async () => {
    await redis.xgroup('CREATE', events, RELAY_GROUP, '0', 'MKSTREAM');
    const eventsConnection = redis.duplicate();
    const workerConnection = redis.duplicate();
    const queueEvents = new QueueEvents('work', { connection: eventsConnection, prefix });
    await queueEvents.waitUntilReady();
    const completed = new Promise<void>((resolve) => queueEvents.on('completed', ({ jobId }) => jobId === 'j1' && resolve()));
    await queue.add('t', {}, { jobId: 'j1' });
    expect(await records.write('j1', { taskToken: token, binding: 'b', queue: 'work', receivedAt: Date.now() })).toBe(true);
    await redis.zadd(new HeartbeatKeys(prefix).schedule, Date.now() - 5_000, 'j1');
    const worker = new Worker('work', async () => 'done', { connection: workerConnection, prefix });
    try {
      await within(completed, 10_000, 'job j1 to complete');
    } finally {
      await worker.close();
      await queueEvents.close();
      eventsConnection.disconnect();
      workerConnection.disconnect();
    }
    // Replica r1 reads every event, acknowledges all but the job's `completed`, claims the task, and stops there.
    const read = (await redis.xreadgroup('GROUP', RELAY_GROUP, 'r1', 'COUNT', 100, 'STREAMS', events, '>')) as [
      string,
      [string, string[]][],
    ][];
    const entries = read[0][1];
    const end = entries.find(([, f]) => f[1] === 'completed')!;
    await redis.xack(events, RELAY_GROUP, ...entries.filter(([id]) => id !== end[0]).map(([id]) => id));
    expect((await records.claim('work', 'j1', 'r1', 60_000, { kind: 'completed', value: '"done"' }, [])).state).toBe('claimed');

    const reader = new TaskStateReader(redis, prefix);
    const open = await reader.describe('work', 'j1');
    expect(open).not.toContain(token);
    expect(open).toMatch(
      /^record open, token present, binding b, received \d+ ms ago, attempts 1, lease held by r1 for \d+ ms more \(Redis TIME\), pttl -1; /,
    );
    expect(open).toMatch(/; job in \[completed\(\d+\)\], lock none, .*finishedOn \d+ ms ago, ats 1, atm 1,.* returnvalue 6 chars; /);
    expect(open).toMatch(/completed \d+ ms ago pending at r1 \(idle \d+ ms, 1 deliveries\)/);
    expect(open).toMatch(/added \d+ ms ago acked/);
    expect(open).toMatch(/group sfn-bridge: pending 1, .*consumers 1\)/);
    expect(open).toMatch(/; schedule overdue \d+ ms$/);
    expect(await reader.presence('work', 'j1')).toEqual({ record: true, job: true, jobFinished: true });

    // The relay's close also takes the task out of the heartbeat schedule and its binding's outstanding set.
    const unschedule = { schedule: new HeartbeatKeys(prefix).schedule, outstanding: new LimitKeys(prefix).outstanding('b') };
    await records.close('work', 'j1', 'r1', { status: 'relayed', outcome: 'success' }, unschedule, RELAY_GROUP, [end[0]]);
    // A new reader: the first one keeps the stream as it read it for the whole read-out.
    const closed = await new TaskStateReader(redis, prefix).describe('work', 'j1');
    expect(closed).toMatch(/^record closed relayed \(success\), token absent, .*no lease \(last owner r1\) \(Redis TIME\), pttl \d+; /);
    expect(closed).toMatch(/completed \d+ ms ago acked/);
    expect(closed).toMatch(/pending 0, /);
    expect(closed).toMatch(/; schedule no entry$/);
  });

  it('finds neither record nor job for a task never written', async () => {
    const reader = new TaskStateReader(redis, prefix);
    expect(await reader.presence('work', 'nope')).toEqual({ record: false, job: false, jobFinished: false });
    expect(await reader.describe('work', 'nope')).toMatch(/^record missing; job missing; events \[none on the stream\]/);
  });

  it('orders stream ids by time, then sequence', () => {
    expect([compareStreamIds('10-2', '10-10') < 0, compareStreamIds('11-0', '10-99') > 0, compareStreamIds('5-1', '5-1')]).toEqual([
      true,
      true,
      0,
    ]);
  });
});
