import { GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { TaskField } from '@bridge/queue';
import { Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { SfnLocal, startSfnLocal } from '../../apps/sfn-local/src';
import { BridgeProcess, bridgeEnv, spawnBridge } from '../support/bridge';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../support/redis';
import { duplicateRelays } from '../support/relay-counters';
import { createActivityMachine, startExecution, testSfnClient, waitForExecution } from '../support/sfn';
import { listTaskRecords, TaskRecordFields } from '../support/task-records';
import { waitFor, within } from '../support/wait-for';
import { get } from '../ops/ops-http';

/**
 * The relay state lives in Redis: a bridge killed (SIGKILL, no shutdown hooks) after consumers
 * finished their jobs but before it relayed them loses nothing, and the next bridge relays every
 * result exactly once. Runs the built bridge (`npm run build`) as a child process.
 *
 * Half the jobs finish while Step Functions refuses SendTaskSuccess (an injected HTTP 503), so
 * their relays are backing off between attempts (in memory, their task records claimed once and
 * their job ends pending in the dead bridge's consumer group) when the bridge dies; the other half
 * finish while no bridge runs at all, so their task records are open and their job ends unread.
 * Outcomes are read from the task records.
 */

const EXECUTIONS = 20;
const FINISHED_BEFORE_KILL = 10;
const POLLERS = 4;

/** Sum of a Prometheus counter over all its label sets. */
function total(metricsText: string, name: string): number {
  return metricsText
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

describe('bridge crash safety: SIGKILL between a job finishing and its relay', () => {
  let sfnLocal: SfnLocal;
  let sfn: SFNClient;
  let prefix: string;
  let connection: IORedis;
  let worker: Worker;
  let childQueue: Queue;
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
    await connection?.quit();
    await sfnLocal?.close();
    sfn?.destroy();
    if (prefix) await cleanupPrefix(prefix);
  });

  /** Each task's record with the `n` of its job, in `n` order. */
  async function recordsByN(): Promise<{ n: number; record: TaskRecordFields }[]> {
    const records = await listTaskRecords(connection, prefix);
    const jobs = await childQueue.getJobs(['waiting', 'active', 'completed', 'failed']);
    return jobs
      .filter((job) => records.has(job.id!))
      .map((job) => ({ n: job.data.n as number, record: records.get(job.id!)! }))
      .sort((a, b) => a.n - b.n);
  }

  it('relays every result exactly once after a restart', async () => {
    // 1. Step Functions refuses SendTaskSuccess; the first bridge takes every task.
    sfnLocal.injectFault({ action: 'SendTaskSuccess', kind: 'http503' });
    // A long relay backoff keeps the failed relays waiting between attempts (not sending) when killed.
    const first = spawnBridge(env({ RELAY_BACKOFF_MS: '5000', LOG_LEVEL: 'info' }));
    bridges.push(first);
    const listening = await first.waitForOutput(/Listening on 0\.0\.0\.0:\d+/, 30_000);
    const metricsUrl = `http://127.0.0.1:${listening.split(':').pop()}/metrics`;
    const arns = await Promise.all(Array.from({ length: EXECUTIONS }, (_, n) => startExecution(sfn, machine.stateMachineArn, { n })));
    await waitFor(async () => (await childQueue.getJobCountByTypes('waiting', 'active', 'completed')) === EXECUTIONS, {
      timeoutMs: 20_000,
      message: `${EXECUTIONS} jobs enqueued\n${first.output()}`,
    });
    expect(sfnLocal.counters().tasksHandedOut).toBe(EXECUTIONS);

    // 2. The first half finishes; each relay sends once, is refused, and backs off: counted by
    //    sfn_bridge_relay_errors_total, which a relay increments as it starts its backoff.
    const relayErrors = async () => total((await get(metricsUrl)).text, 'sfn_bridge_relay_errors_total');
    await waitFor(async () => (await relayErrors()) >= FINISHED_BEFORE_KILL, {
      timeoutMs: 20_000,
      message: `${FINISHED_BEFORE_KILL} relays backing off\n${first.output()}`,
    });
    expect({
      relayErrors: await relayErrors(),
      refused: sfnLocal.counters().errors.SendTaskSuccess?.HTTP503,
    }).toEqual({ relayErrors: FINISHED_BEFORE_KILL, refused: FINISHED_BEFORE_KILL });

    // 3. Kill the bridge without any shutdown; the second half finishes with no bridge running.
    first.child.kill('SIGKILL');
    expect(await within(first.exited, 10_000, 'killed bridge to exit')).toBeNull();
    releaseHeldJobs();
    await waitFor(async () => (await childQueue.getJobCountByTypes('completed')) === EXECUTIONS, {
      timeoutMs: 10_000,
      message: 'every job completed',
    });
    // Every record open, its job completed: the first half claimed once, the second never.
    const beforeRestart = await recordsByN();
    expect(
      beforeRestart.map(({ n, record }) => ({
        n,
        closed: record[TaskField.Closed] ?? null,
        hasToken: Boolean(record[TaskField.Token]),
        attempts: record[TaskField.Attempts] ?? null,
      })),
    ).toEqual(
      Array.from({ length: EXECUTIONS }, (_, n) => ({
        n,
        closed: null,
        hasToken: true,
        attempts: n < FINISHED_BEFORE_KILL ? '1' : null,
      })),
    );
    expect(sfnLocal.counters().tasksClosed).toBe(0); // nothing relayed yet

    // 4. Step Functions is reachable again; a new bridge process takes over.
    sfnLocal.clearFaults();
    const before = sfnLocal.counters();
    const second = spawnBridge(env({}));
    bridges.push(second);
    const executions = await Promise.all(arns.map((arn) => waitForExecution(sfn, arn, 45_000)));

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

    // Every record closed as relayed; the second half at its first claim, the first half after a
    // claim of the dead bridge (so the new one probed before sending).
    const closed = await waitFor(
      async () => {
        const records = await recordsByN();
        return records.length === EXECUTIONS && records.every(({ record }) => record[TaskField.Closed]) ? records : undefined;
      },
      { timeoutMs: 5_000, message: `every task record closed\n${second.output()}` },
    );
    expect(
      closed.map(({ record }) => ({
        status: record[TaskField.Closed],
        reason: record[TaskField.Reason],
        token: record[TaskField.Token] ?? null,
      })),
    ).toEqual(Array(EXECUTIONS).fill({ status: 'relayed', reason: 'success', token: null }));
    expect(
      closed.map(({ n, record }) => (n < FINISHED_BEFORE_KILL ? Number(record[TaskField.Attempts]) >= 2 : record[TaskField.Attempts])),
    ).toEqual(Array.from({ length: EXECUTIONS }, (_, n) => (n < FINISHED_BEFORE_KILL ? true : '1')));
  }, 120_000);
});
