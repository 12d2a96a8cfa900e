import { GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { Job, Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { SfnLocal, startSfnLocal } from '../../apps/sfn-local/src';
import { bridgeEnv, InProcessBridge, startBridge } from '../support/bridge';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../support/redis';
import { duplicateRelays } from '../support/relay-counters';
import { createActivityMachine, startExecution, testSfnClient, waitForExecution } from '../support/sfn';

/**
 * A binding's `attempts` are BullMQ attempts of the consumer's job: the task is relayed once, after
 * the last attempt, never after an intermediate failure.
 */

class FlakyGateway extends Error {
  override name = 'FlakyGateway';
}

/** Fails its first two attempts, succeeds on the third. */
async function failsTwiceThenSucceeds(job: Job): Promise<unknown> {
  const attempt = job.attemptsMade + 1;
  if (attempt <= 2) throw new FlakyGateway(`attempt ${attempt} failed`);
  return { orderId: job.data.orderId, attempt };
}

describe('bridge with BullMQ retries (emulator over HTTP, real Redis, real BullMQ workers)', () => {
  let sfnLocal: SfnLocal;
  let sfn: SFNClient;
  let prefix: string;
  let bridge: InProcessBridge;
  let connection: IORedis;
  const workers: Worker[] = [];
  const queues: Queue[] = [];
  let threeAttempts: Awaited<ReturnType<typeof createActivityMachine>>;
  let twoAttempts: Awaited<ReturnType<typeof createActivityMachine>>;

  beforeAll(async () => {
    sfnLocal = await startSfnLocal({ pollSeconds: 2, quiet: true });
    sfn = testSfnClient(sfnLocal.url);
    prefix = uniquePrefix('retries');
    threeAttempts = await createActivityMachine(sfn, 'retry-3');
    twoAttempts = await createActivityMachine(sfn, 'retry-2');
    bridge = await startBridge(
      bridgeEnv(prefix, sfnLocal.url, [
        { activityArn: threeAttempts.activityArn, queue: 'retry-3', attempts: 3 },
        { activityArn: twoAttempts.activityArn, queue: 'retry-2', attempts: 2 },
      ]),
    );
    connection = new IORedis(REDIS_URL, { maxRetriesPerRequest: null });
    for (const name of ['retry-3', 'retry-2']) {
      workers.push(new Worker(name, failsTwiceThenSucceeds, { connection, prefix, concurrency: 4 }));
      queues.push(new Queue(name, { connection, prefix }));
    }
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.close()));
    await Promise.all(queues.map((q) => q.close()));
    await bridge?.close();
    await connection?.quit();
    await sfnLocal?.close();
    sfn?.destroy();
    if (prefix) await cleanupPrefix(prefix);
  });

  async function historyTypes(executionArn: string): Promise<string[]> {
    const { events } = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
    return (events ?? []).map((e) => e.type!);
  }

  async function childJob(executionArn: string, queue: Queue): Promise<Job | undefined> {
    const [task] = sfnLocal.tasks({ executionArn });
    return task?.tokenHash ? Job.fromId(queue, task.tokenHash) : undefined;
  }

  it('ends SUCCEEDED with the output of the third attempt when the binding allows 3 attempts', async () => {
    const arn = await startExecution(sfn, threeAttempts.stateMachineArn, { orderId: 'o-3' });
    const execution = await waitForExecution(sfn, arn, 20_000);

    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output!)).toEqual({ orderId: 'o-3', attempt: 3 });
    const job = await childJob(arn, queues[0]);
    expect(job?.attemptsMade).toBe(3);
    expect(job?.stacktrace).toHaveLength(2);
    // The two failed attempts were not relayed: one outcome, a success.
    const types = await historyTypes(arn);
    expect(types.filter((t) => t === 'ActivitySucceeded')).toHaveLength(1);
    expect(types).not.toContain('ActivityFailed');
  });

  it("ends FAILED with the last attempt's error when the binding allows only 2 attempts", async () => {
    const arn = await startExecution(sfn, twoAttempts.stateMachineArn, { orderId: 'o-2' });
    const execution = await waitForExecution(sfn, arn, 20_000);

    expect({ status: execution.status, error: execution.error, cause: execution.cause }).toEqual({
      status: 'FAILED',
      error: 'FlakyGateway',
      cause: 'attempt 2 failed',
    });
    const job = await childJob(arn, queues[1]);
    expect(job?.attemptsMade).toBe(2);
    expect(await job?.getState()).toBe('failed');
    const types = await historyTypes(arn);
    expect(types.filter((t) => t === 'ActivityFailed')).toHaveLength(1);
    expect(types).not.toContain('ActivitySucceeded');
    expect(duplicateRelays(sfnLocal.counters())).toBe(0);
  });
});
