import { SFNClient } from '@aws-sdk/client-sfn';
import { Job, Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { SfnLocal, startSfnLocal } from '../../apps/sfn-local/src';
import { bridgeEnv, InProcessBridge, startBridge } from '../support/bridge';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../support/redis';
import { createActivityMachine, startExecution, testSfnClient, waitForExecution } from '../support/sfn';
import { waitFor } from '../support/wait-for';

/**
 * DESIGN.md section 4: the SDK's NodeHttpHandler keeps 50 sockets per agent by default, and a
 * parked GetActivityTask holds one for the whole hold. With more parked polls than that, a
 * SendTaskSuccess sharing their pool would queue until a poll returns (here 30 s). The bridge
 * gives polls and callbacks separate pools, so a finished job is relayed at once.
 */

const POLLERS = 80;
const HOLD_SECONDS = 30;
const EXECUTIONS = 5;

describe('bridge with more parked polls than the SDK default socket pool', () => {
  let sfnLocal: SfnLocal;
  let sfn: SFNClient;
  let prefix: string;
  let bridge: InProcessBridge;
  let worker: Worker;
  let childQueue: Queue;
  let connection: IORedis;
  let machine: Awaited<ReturnType<typeof createActivityMachine>>;
  const queue = 'pools';

  beforeAll(async () => {
    sfnLocal = await startSfnLocal({ pollSeconds: HOLD_SECONDS, quiet: true });
    sfn = testSfnClient(sfnLocal.url);
    prefix = uniquePrefix('pools');
    machine = await createActivityMachine(sfn, 'pools');
    bridge = await startBridge(
      bridgeEnv(prefix, sfnLocal.url, [{ activityArn: machine.activityArn, queue, pollers: POLLERS, maxPending: 500 }]),
    );
    connection = new IORedis(REDIS_URL, { maxRetriesPerRequest: null });
    worker = new Worker(queue, async (job) => ({ done: job.data.n }), { connection, prefix, concurrency: 8 });
    childQueue = new Queue(queue, { connection, prefix });
  });

  afterAll(async () => {
    await worker?.close();
    await childQueue?.close();
    // The emulator answers parked polls on close, so the bridge's drain need not wait 30 s.
    await sfnLocal?.close();
    await bridge?.close();
    await connection?.quit();
    sfn?.destroy();
    if (prefix) await cleanupPrefix(prefix);
  });

  it(`parks all ${POLLERS} polls at once (more than the SDK's 50 default sockets)`, async () => {
    await waitFor(() => sfnLocal.counters().parkedPollsByArn[machine.activityArn] === POLLERS, {
      timeoutMs: 15_000,
      message: `${POLLERS} parked polls`,
    });
  });

  it('relays each finished job within a second while the polls stay parked', async () => {
    expect(sfnLocal.counters().parkedPollsByArn[machine.activityArn]).toBe(POLLERS);
    const arns = await Promise.all(
      Array.from({ length: EXECUTIONS }, (_, n) => startExecution(sfn, machine.stateMachineArn, { n })),
    );
    const executions = await Promise.all(arns.map((arn) => waitForExecution(sfn, arn, 10_000)));

    for (const [n, execution] of executions.entries()) {
      expect(execution.status).toBe('SUCCEEDED');
      expect(JSON.parse(execution.output!)).toEqual({ done: n });
      const [task] = sfnLocal.tasks({ executionArn: arns[n] });
      const job = await Job.fromId(childQueue, task.tokenHash!);
      // Job finished (worker, Redis clock of this machine) -> SendTaskSuccess accepted (emulator).
      const relayMs = task.closedAt! - job!.finishedOn!;
      expect(task.closeReason).toBe('succeeded');
      expect(relayMs).toBeGreaterThanOrEqual(0);
      expect(relayMs).toBeLessThan(1_000);
    }
    // No poll returned empty meanwhile: every relay happened inside one hold.
    expect(sfnLocal.counters().emptyPolls).toBe(0);
    expect(sfnLocal.counters().parkedPollsByArn[machine.activityArn]).toBe(POLLERS);
  });
});
