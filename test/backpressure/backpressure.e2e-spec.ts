import { SFNClient } from '@aws-sdk/client-sfn';
import { Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { SfnLocal, startSfnLocal } from '../../apps/sfn-local/src';
import { bridgeEnv, InProcessBridge, startBridge } from '../support/bridge';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../support/redis';
import { createActivityMachine, startExecution, testSfnClient, waitForExecution } from '../support/sfn';
import { waitFor } from '../support/wait-for';

describe('backpressure: tasks wait in Step Functions, not in Redis', () => {
  let sfnLocal: SfnLocal;
  let sfn: SFNClient;
  let connection: IORedis;
  let prefix: string;
  let bridge: InProcessBridge;
  let machine: Awaited<ReturnType<typeof createActivityMachine>>;

  beforeAll(async () => {
    sfnLocal = await startSfnLocal({ pollSeconds: 2, quiet: true });
    sfn = testSfnClient(sfnLocal.url);
    connection = new IORedis(REDIS_URL, { maxRetriesPerRequest: null });
    prefix = uniquePrefix('bp');
    machine = await createActivityMachine(sfn, 'bp');
    bridge = await startBridge(
      bridgeEnv(prefix, sfnLocal.url, [{ activityArn: machine.activityArn, queue: 'bp', pollers: 3, maxPending: 5, heartbeatSeconds: 5 }]),
    );
  });

  afterAll(async () => {
    await bridge.close();
    await connection.quit();
    await sfnLocal.close();
    sfn.destroy();
    await cleanupPrefix(prefix);
  });

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
