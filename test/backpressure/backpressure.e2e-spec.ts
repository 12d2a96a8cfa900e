import { SFNClient } from '@aws-sdk/client-sfn';
import { Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { SfnLocal } from '../../apps/sfn-local/src';
import { BridgeFixture } from '../support/bridge-fixture';
import { createActivityMachine, startExecution, waitForExecution } from '../support/sfn';

describe('backpressure: tasks wait in Step Functions, not in Redis', () => {
  let fx: BridgeFixture;
  let sfnLocal: SfnLocal;
  let sfn: SFNClient;
  let connection: IORedis;
  let prefix: string;
  let machine: Awaited<ReturnType<typeof createActivityMachine>>;

  beforeAll(async () => {
    fx = await BridgeFixture.start({ label: 'bp', binding: { pollers: 3, maxPending: 5, heartbeatSeconds: 5 } });
    ({ sfnLocal, sfn, connection, prefix, machine } = fx);
  });

  afterAll(() => fx?.close());

  it('stops polling at maxPending and resumes as consumers finish jobs', async () => {
    const arns = await Promise.all(Array.from({ length: 12 }, (_, i) => startExecution(sfn, machine.stateMachineArn, { i })));
    const queue = new Queue('bp', { connection, prefix });
    try {
      // Sample what the bridge took over time (waiting jobs, tasks handed out): until 5 are
      // waiting, then for 1.5 s more, time for the pollers to (wrongly) take more. On failure the
      // samples show whether polling overshot maxPending or lagged behind it.
      const samples: { atMs: number; waiting: number; handedOut: number }[] = [];
      const t0 = Date.now();
      const sample = async () => {
        const s = { atMs: Date.now() - t0, waiting: await queue.getWaitingCount(), handedOut: sfnLocal.counters().tasksHandedOut };
        samples.push(s);
        return s;
      };
      let reachedAt: number | undefined;
      while (Date.now() - t0 < 20_000) {
        const s = await sample();
        reachedAt ??= s.waiting >= 5 ? s.atMs : undefined;
        if (reachedAt !== undefined && s.atMs - reachedAt >= 1_500) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const seen = {
        maxWaiting: Math.max(...samples.map((x) => x.waiting)),
        maxHandedOut: Math.max(...samples.map((x) => x.handedOut)),
        reachedFiveAtMs: reachedAt,
        changes: samples.filter((x, i) => i === 0 || x.waiting !== samples[i - 1].waiting || x.handedOut !== samples[i - 1].handedOut),
      };
      expect({ ...seen, maxWaiting: Math.min(seen.maxWaiting, 5), maxHandedOut: Math.min(seen.maxHandedOut, 5) }).toEqual(seen);
      expect(seen.reachedFiveAtMs).toBeDefined();
      const counters = sfnLocal.counters();
      expect(await queue.getWaitingCount()).toBe(5);
      expect(counters.tasksHandedOut).toBe(5);
      expect(counters.pendingTasksByArn[machine.activityArn]).toBe(7);
      expect(counters.parkedPollsByArn[machine.activityArn] ?? 0).toBe(0);

      const worker = new Worker('bp', async (job) => ({ i: job.data.i }), { connection, prefix, concurrency: 2 });
      try {
        const results = await Promise.all(arns.map((arn) => waitForExecution(sfn, arn, 30_000)));
        expect(results.map((r) => r.status)).toEqual(Array(12).fill('SUCCEEDED'));
        expect(sfnLocal.counters().tasksHandedOut).toBe(12);
      } finally {
        await worker.close();
      }
    } finally {
      await queue.close();
    }
  }, 60_000);
});
