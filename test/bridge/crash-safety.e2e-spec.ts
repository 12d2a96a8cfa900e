import { GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { BridgeQueue } from '@bridge/queue';
import { SfnLocal, startSfnLocal } from '../../apps/sfn-local/src';
import { BridgeProcess, bridgeEnv, spawnBridge } from '../support/bridge';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../support/redis';
import { duplicateRelays } from '../support/relay-counters';
import { createActivityMachine, startExecution, testSfnClient, waitForExecution } from '../support/sfn';
import { waitFor, within } from '../support/wait-for';

/**
 * The relay state lives in Redis: a bridge killed (SIGKILL, no shutdown hooks) after consumers
 * finished their jobs but before it relayed them loses nothing, and the next bridge relays every
 * result exactly once. Runs the built bridge (`npm run build`) as a child process.
 *
 * Half the jobs finish while Step Functions refuses SendTaskSuccess (an injected HTTP 503), so
 * their relay jobs sit in BullMQ's delayed set, between retries, when the bridge dies; the other
 * half finish while no bridge runs at all, so their relay jobs are merely waiting.
 */

const EXECUTIONS = 20;
const FINISHED_BEFORE_KILL = 10;
const POLLERS = 4;

describe('bridge crash safety: SIGKILL between a job finishing and its relay', () => {
  let sfnLocal: SfnLocal;
  let sfn: SFNClient;
  let prefix: string;
  let connection: IORedis;
  let worker: Worker;
  let childQueue: Queue;
  let relayQueue: Queue;
  let machine: Awaited<ReturnType<typeof createActivityMachine>>;
  const bridges: BridgeProcess[] = [];
  const queue = 'crash';
  let releaseHeldJobs!: () => void;
  const heldJobs = new Promise<void>((resolve) => (releaseHeldJobs = resolve));

  function env(extra: Record<string, string>) {
    return bridgeEnv(prefix, sfnLocal.url, [{ activityArn: machine.activityArn, queue, pollers: POLLERS }], extra);
  }

  beforeAll(async () => {
    sfnLocal = await startSfnLocal({ pollSeconds: 2, quiet: true });
    sfn = testSfnClient(sfnLocal.url);
    prefix = uniquePrefix('crash');
    machine = await createActivityMachine(sfn, 'crash');
    connection = new IORedis(REDIS_URL, { maxRetriesPerRequest: null });
    childQueue = new Queue(queue, { connection, prefix });
    relayQueue = new Queue(BridgeQueue.Relay, { connection, prefix });
    worker = new Worker(
      queue,
      async (job) => {
        if (job.data.n >= FINISHED_BEFORE_KILL) await heldJobs;
        return { n: job.data.n, charged: true };
      },
      { connection, prefix, concurrency: EXECUTIONS },
    );
  });

  afterAll(async () => {
    releaseHeldJobs();
    for (const b of bridges) {
      if (b.child.exitCode === null && b.child.signalCode === null) b.child.kill('SIGTERM');
      await within(b.exited, 20_000, 'bridge to exit on SIGTERM').catch(() => b.child.kill('SIGKILL'));
    }
    await worker?.close();
    await childQueue?.close();
    await relayQueue?.close();
    await connection?.quit();
    await sfnLocal?.close();
    sfn?.destroy();
    if (prefix) await cleanupPrefix(prefix);
  });

  const relayCounts = () => relayQueue.getJobCounts('waiting-children', 'waiting', 'active', 'delayed', 'completed', 'failed');

  it('relays every result exactly once after a restart', async () => {
    // 1. Step Functions refuses SendTaskSuccess; the first bridge takes every task.
    sfnLocal.injectFault({ action: 'SendTaskSuccess', kind: 'http503' });
    // A long relay backoff keeps failed relay jobs in the delayed set (not active) when killed.
    const first = spawnBridge(env({ RELAY_BACKOFF_MS: '5000' }));
    bridges.push(first);
    const arns = await Promise.all(Array.from({ length: EXECUTIONS }, (_, n) => startExecution(sfn, machine.stateMachineArn, { n })));
    await waitFor(async () => (await childQueue.getJobCountByTypes('waiting', 'active', 'completed')) === EXECUTIONS, {
      timeoutMs: 20_000,
      message: `${EXECUTIONS} jobs enqueued\n${first.output()}`,
    });
    expect(sfnLocal.counters().tasksHandedOut).toBe(EXECUTIONS);

    // 2. The first half finishes; each relay attempt fails and backs off.
    await waitFor(
      async () => {
        const c = await relayCounts();
        return c.delayed === FINISHED_BEFORE_KILL && c.active === 0 && c.completed === 0;
      },
      { timeoutMs: 20_000, message: `${FINISHED_BEFORE_KILL} relay jobs backing off\n${first.output()}` },
    );
    expect(sfnLocal.counters().errors.SendTaskSuccess?.HTTP503).toBeGreaterThanOrEqual(FINISHED_BEFORE_KILL);

    // 3. Kill the bridge without any shutdown; the second half finishes with no bridge running.
    first.child.kill('SIGKILL');
    expect(await within(first.exited, 10_000, 'killed bridge to exit')).toBeNull();
    releaseHeldJobs();
    await waitFor(async () => (await childQueue.getJobCountByTypes('completed')) === EXECUTIONS, {
      timeoutMs: 10_000,
      message: 'every job completed',
    });
    await waitFor(async () => (await relayCounts()).waiting === EXECUTIONS - FINISHED_BEFORE_KILL, {
      timeoutMs: 10_000,
      message: 'relay jobs of the second half waiting',
    });
    expect(sfnLocal.counters().tasksClosed).toBe(0); // nothing relayed yet

    // 4. Step Functions is reachable again; a new bridge process takes over.
    sfnLocal.clearFaults();
    const before = sfnLocal.counters();
    const second = spawnBridge(env({}));
    bridges.push(second);
    const executions = await Promise.all(arns.map((arn) => waitForExecution(sfn, arn, 30_000)));

    // 5. Every execution succeeded with its job's output, from exactly one SendTaskSuccess.
    executions.forEach((execution, n) => {
      expect(execution.status).toBe('SUCCEEDED');
      expect(JSON.parse(execution.output!)).toEqual({ n, charged: true });
    });
    for (const arn of arns) {
      const { events } = await sfn.send(new GetExecutionHistoryCommand({ executionArn: arn, maxResults: 1000 }));
      expect(events!.filter((e) => e.type === 'ActivitySucceeded')).toHaveLength(1);
      expect(events!.filter((e) => e.type === 'ActivityFailed')).toHaveLength(0);
    }
    const after = sfnLocal.counters();
    expect(duplicateRelays(after)).toBe(0);
    expect(after.closes).toEqual({ succeeded: EXECUTIONS });
    // Successful SendTaskSuccess calls after the restart: one per task.
    const calls = (after.calls.SendTaskSuccess ?? 0) - (before.calls.SendTaskSuccess ?? 0);
    const errors =
      Object.values(after.errors.SendTaskSuccess ?? {}).reduce((a, b) => a + b, 0) -
      Object.values(before.errors.SendTaskSuccess ?? {}).reduce((a, b) => a + b, 0);
    expect(calls - errors).toBe(EXECUTIONS);
    expect(after.calls.SendTaskFailure ?? 0).toBe(0);
    await waitFor(async () => (await relayCounts()).completed === EXECUTIONS, { timeoutMs: 5_000, message: 'relay jobs completed' });
    const relayed = (await relayQueue.getJobs(['completed'])).map((j) => j.returnvalue);
    expect(relayed).toEqual(Array(EXECUTIONS).fill({ status: 'relayed', outcome: 'success' }));
  }, 90_000);
});
