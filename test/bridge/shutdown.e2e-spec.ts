import { SFNClient } from '@aws-sdk/client-sfn';
import { Job, Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { SfnLocal, startSfnLocal } from '../../apps/sfn-local/src';
import { BridgeProcess, bridgeEnv, InProcessBridge, spawnBridge, startBridge } from '../support/bridge';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../support/redis';
import { createActivityMachine, startExecution, testSfnClient, waitForExecution } from '../support/sfn';
import { waitFor, within } from '../support/wait-for';

/**
 * Graceful shutdown (docs/design.md section 1): on SIGTERM the bridge starts no new poll but never
 * aborts a parked one (an aborted poll can still be handed a task, which is then lost); it waits
 * for the parked polls, enqueues whatever tasks they return, and exits 0. The emulator's poll hold
 * is shortened to a few seconds so the drain is quick. Runs the built bridge (`npm run build`).
 */

const HOLD_SECONDS = 5;
const POLLERS = 50;
const EXECUTIONS = 40;
/** Exit deadline after SIGTERM: the rest of one hold, plus closing workers and connections. */
const EXIT_WITHIN_MS = HOLD_SECONDS * 1000 + 5_000;

describe('bridge shutdown (SIGTERM) with parked polls', () => {
  let sfnLocal: SfnLocal;
  let sfn: SFNClient;
  let prefix: string;
  let connection: IORedis;
  let childQueue: Queue;
  let machine: Awaited<ReturnType<typeof createActivityMachine>>;
  let draining: BridgeProcess | undefined;
  let successor: InProcessBridge | undefined;
  let worker: Worker | undefined;
  const queue = 'shutdown';

  function env(pollers: number, extra: Record<string, string> = {}) {
    return bridgeEnv(prefix, sfnLocal.url, [{ activityArn: machine.activityArn, queue, pollers, maxPending: 500 }], extra);
  }

  beforeAll(async () => {
    sfnLocal = await startSfnLocal({ pollSeconds: HOLD_SECONDS, quiet: true });
    sfn = testSfnClient(sfnLocal.url);
    prefix = uniquePrefix('shutdown');
    machine = await createActivityMachine(sfn, 'shutdown');
    connection = new IORedis(REDIS_URL, { maxRetriesPerRequest: null });
    childQueue = new Queue(queue, { connection, prefix });
  });

  afterAll(async () => {
    if (draining && draining.child.exitCode === null && draining.child.signalCode === null) draining.child.kill('SIGKILL');
    await worker?.close();
    await sfnLocal?.close();
    await successor?.close();
    await childQueue?.close();
    await connection?.quit();
    sfn?.destroy();
    if (prefix) await cleanupPrefix(prefix);
  });

  it('enqueues every task handed to a draining poll, exits 0 within a hold, and loses nothing', async () => {
    // INFO logs: the drain announces itself.
    draining = spawnBridge(env(POLLERS, { LOG_LEVEL: 'info' }));
    const parked = () => sfnLocal.counters().parkedPollsByArn[machine.activityArn] ?? 0;
    await waitFor(() => parked() === POLLERS, { timeoutMs: 20_000, message: `${POLLERS} parked polls\n${draining.output()}` });
    // Line up with a fresh hold: the first round of polls came back empty and was parked again,
    // so every poll has (almost) the whole hold left when SIGTERM arrives.
    await waitFor(() => sfnLocal.counters().emptyPolls >= POLLERS && parked() === POLLERS, {
      timeoutMs: HOLD_SECONDS * 1000 + 5_000,
      message: 'the polls to be parked again after one hold',
    });

    const sigtermAt = Date.now();
    draining.child.kill('SIGTERM');
    await draining.waitForOutput(/Draining \d+ parked poll/, 3_000);
    // While it drains: tasks for the parked polls.
    const arns = await Promise.all(Array.from({ length: EXECUTIONS }, (_, n) => startExecution(sfn, machine.stateMachineArn, { n })));
    const code = await within(draining.exited, EXIT_WITHIN_MS, `bridge to exit after SIGTERM\n${draining.output().slice(-3000)}`);
    const exitedAfterMs = Date.now() - sigtermAt;

    expect({ code, signal: draining.child.signalCode }).toEqual({ code: 0, signal: null });
    expect(exitedAfterMs).toBeLessThan(EXIT_WITHIN_MS);
    expect(draining.output()).not.toMatch(/Drain timed out|EnqueueFailed|could not write/);
    const counters = sfnLocal.counters();
    // No parked poll was aborted, and each task went to one of them.
    expect(counters.pollsAbandoned).toBe(0);
    expect(counters.tasksHandedOut).toBe(EXECUTIONS);
    // Every task handed out is a waiting job whose id is its token's hash.
    for (const arn of arns) {
      const [task] = sfnLocal.tasks({ executionArn: arn });
      expect(task.status).toBe('started');
      const job = await Job.fromId(childQueue, task.tokenHash!);
      expect(await job?.getState()).toBe('waiting');
    }
    expect(await childQueue.getJobCountByTypes('waiting')).toBe(EXECUTIONS);

    // Consumers and a bridge started afterwards finish them all.
    worker = new Worker(queue, async (job) => ({ n: job.data.n, ok: true }), { connection, prefix, concurrency: 20 });
    successor = await startBridge(env(1));
    const executions = await Promise.all(arns.map((arn) => waitForExecution(sfn, arn, 20_000)));
    executions.forEach((execution, n) => {
      expect(execution.status).toBe('SUCCEEDED');
      expect(JSON.parse(execution.output!)).toEqual({ n, ok: true });
    });
  }, 60_000);
});
