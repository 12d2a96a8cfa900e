import { SFNClient } from '@aws-sdk/client-sfn';
import { Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { SfnLocal } from '../../apps/sfn-local/src';
import { BridgeFixture } from '../support/bridge-fixture';
import { createActivityMachine, startExecution, waitForExecution } from '../support/sfn';
import { waitFor } from '../support/wait-for';

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
      await waitFor(async () => (await queue.getWaitingCount()) === 5, { message: '5 jobs waiting' });
      // Give the pollers time to (wrongly) take more; none may be handed out or parked.
      await new Promise((r) => setTimeout(r, 1_500));
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
