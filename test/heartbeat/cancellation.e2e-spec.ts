import { SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { Job, Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { SfnLocal } from '../../apps/sfn-local/src';
import { BridgeFixture } from '../support/bridge-fixture';
import { createActivityMachine, startExecution, waitForExecution } from '../support/sfn';
import { closedAs, eventHandled, waitForClose } from '../support/task-records';
import { waitFor } from '../support/wait-for';

/**
 * A heartbeat answered "task gone" (the execution was stopped) cancels the task: its task record
 * closes as `cancelled` with the AWS error as reason, a waiting job is removed, an active one is
 * flagged for its consumer, and nothing is relayed for it when that job finishes anyway.
 */
describe('cancellation: an execution that is gone takes its job with it', () => {
  let fx: BridgeFixture;
  let sfnLocal: SfnLocal;
  let sfn: SFNClient;
  let connection: IORedis;
  let prefix: string;
  let machine: Awaited<ReturnType<typeof createActivityMachine>>;
  let queue: Queue;

  beforeAll(async () => {
    fx = await BridgeFixture.start({
      label: 'cancel',
      binding: { heartbeatSeconds: 1 },
      task: { heartbeatSeconds: 30, timeoutSeconds: 120 },
    });
    ({ sfnLocal, sfn, connection, prefix, machine } = fx);
    queue = fx.openQueue();
  });

  afterAll(() => fx?.close());

  async function jobIdOf(executionArn: string): Promise<string> {
    const record = await waitFor(() => sfnLocal.tasks({ executionArn }).find((t) => t.status === 'started'), {
      message: 'the task to be handed out',
    });
    return record.tokenHash!;
  }

  it('removes the waiting job of a stopped execution and closes its task record as cancelled', async () => {
    const arn = await startExecution(sfn, machine.stateMachineArn, { n: 1 });
    const jobId = await jobIdOf(arn);
    await waitFor(async () => (await queue.getJobState(jobId)) === 'waiting', { message: 'the job to wait' });

    await sfn.send(new StopExecutionCommand({ executionArn: arn, error: 'Stopped', cause: 'by test' }));

    expect(await waitForClose(connection, prefix, jobId)).toEqual({ status: 'cancelled', reason: 'TaskTimedOut' });
    // The canceller closes the record, then removes the job.
    await waitFor(async () => (await Job.fromId(queue, jobId)) === undefined, {
      timeoutMs: 5_000,
      message: 'the waiting job to be removed',
    });
    expect((await waitForExecution(sfn, arn)).status).toBe('ABORTED');
  }, 30_000);

  it('flags an active job of a stopped execution and relays nothing when it finishes', async () => {
    let release!: () => void;
    const hold = new Promise<void>((r) => (release = r));
    let active!: (job: Job) => void;
    const picked = new Promise<Job>((r) => (active = r));
    const worker = new Worker(
      'cancel',
      async (job) => {
        active(job);
        await hold;
        return 'finished anyway';
      },
      { connection, prefix },
    );
    try {
      const arn = await startExecution(sfn, machine.stateMachineArn, { n: 2 });
      const job = await picked;
      const successesBefore = sfnLocal.counters().calls.SendTaskSuccess ?? 0;

      await sfn.send(new StopExecutionCommand({ executionArn: arn }));

      const flag = `${prefix}:sfn-bridge:cancelled:${job.id}`;
      await waitFor(async () => (await connection.exists(flag)) === 1, { message: 'the cancelled flag' });
      expect(await closedAs(connection, prefix, job.id!)).toEqual({ status: 'cancelled', reason: 'TaskTimedOut' });
      release();
      await waitFor(async () => (await queue.getJobState(job.id!)) === 'completed', { message: 'the flagged job to finish' });
      // The relay has read and acknowledged the job's end, and left the task as it was.
      await waitFor(() => eventHandled(connection, prefix, 'cancel', job.id!, 'completed'), {
        message: "the relay to handle the flagged job's end",
      });
      expect(await closedAs(connection, prefix, job.id!)).toEqual({ status: 'cancelled', reason: 'TaskTimedOut' });
      expect(sfnLocal.counters().calls.SendTaskSuccess ?? 0).toBe(successesBefore);
    } finally {
      release();
      await worker.close();
    }
  }, 30_000);
});
