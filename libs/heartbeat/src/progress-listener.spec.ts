import { BridgeConfig } from '@bridge/config';
import { Job, Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../../../test/support/redis';
import { waitFor } from '../../../test/support/wait-for';
import { HeartbeatSchedule } from './heartbeat-schedule.service';
import { ProgressListener, progressJobId } from './progress-listener.service';

describe('ProgressListener (real Redis)', () => {
  const prefix = uniquePrefix('progress');
  const redis = new IORedis(REDIS_URL, { maxRetriesPerRequest: null });
  const expedited: string[] = [];
  const schedule = { expedite: async (jobId: string) => (expedited.push(jobId), true) } as unknown as HeartbeatSchedule;
  const config = {
    bindings: [{ queue: 'pa' }, { queue: 'pb' }, { queue: 'pa' }],
    redis: { prefix },
    heartbeat: { progressMinIntervalMs: 100 },
  } as unknown as BridgeConfig;
  const queues = ['pa', 'pb'].map((name) => new Queue(name, { connection: redis, prefix }));
  const listener = new ProgressListener(config, redis, schedule);

  afterAll(async () => {
    await listener.onModuleDestroy();
    await Promise.all(queues.map((q) => q.close()));
    await redis.quit();
    await cleanupPrefix(prefix);
  });

  it('turns progress on any binding queue into an expedite of that job, and nothing else', async () => {
    // Events written before the listener starts are not progress it should act on now.
    const old = await queues[0].add('old', {}, { jobId: 'old' });
    await old.updateProgress(1);
    listener.onApplicationBootstrap();
    await listener.listening();
    const finished: string[] = [];
    const workers = ['pa', 'pb'].map((name) => {
      const w = new Worker(
        name,
        async (job: Job) => {
          if (job.data.progress) await job.updateProgress(50);
          return { big: 'x'.repeat(100_000) };
        },
        { connection: redis, prefix },
      );
      w.on('completed', (job) => finished.push(job.id!));
      return w;
    });
    try {
      const withProgress = await Promise.all(queues.map((q) => q.add('p', { progress: true }, { jobId: `${q.name}-p` })));
      const without = await Promise.all(queues.map((q) => q.add('n', {}, { jobId: `${q.name}-n` })));
      await waitFor(() => finished.length === 5, { message: `5 jobs finished (saw ${finished.length})` });
      const want = withProgress.map((j) => j.id!).sort();
      await waitFor(() => expedited.length >= 2, { message: `2 expedites (saw ${JSON.stringify(expedited)})` });
      expect([...expedited].sort()).toEqual(want);
      expect(expedited).not.toContain(old.id);
      expect(expedited.filter((id) => without.some((j) => j.id === id))).toEqual([]);
    } finally {
      await Promise.all(workers.map((w) => w.close()));
    }
  });

  it('reads the job id of a progress event only', () => {
    const b = (...s: string[]) => s.map((x) => Buffer.from(x));
    expect(progressJobId(b('event', 'progress', 'jobId', '42', 'data', '1'))).toBe('42');
    expect(progressJobId(b('event', 'completed', 'jobId', '42', 'returnvalue', '{}'))).toBeUndefined();
    expect(progressJobId(b('event', 'progress'))).toBeUndefined();
  });
});
