import { GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { TaskField } from '@bridge/queue';
import { Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { SfnLocal, startSfnLocal } from '../../apps/sfn-local/src';
import { BridgeProcess, bridgeEnv, spawnBridge } from '../support/bridge';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../support/redis';
import { duplicateRelays } from '../support/relay-counters';
import { createActivityMachine, startExecution, testSfnClient, waitForExecution } from '../support/sfn';
import { listTaskRecords, pendingEvents, tallyStatuses } from '../support/task-records';
import { waitFor, within } from '../support/wait-for';

/**
 * No second result through a crash mid-relay: a bridge is SIGKILLed while its relay holds results
 * whose SendTaskSuccess calls are in Step Functions' hands (a latency fault holds them in the
 * emulator, which applies them after the bridge is dead). Their job ends stay pending in the dead
 * bridge's consumer group and their task records stay claimed; the next bridge takes the pending
 * events over once they have idled a relay lease (10 s), claims the records again, probes, finds
 * the tasks closed and sends nothing again. Results not yet sent when the first bridge died are
 * sent once. Statuses are counted from the task records. Runs the built bridge (`npm run build`).
 */

const IN_FLIGHT = 8;
const AFTER_KILL = 6;
const EXECUTIONS = IN_FLIGHT + AFTER_KILL;
const LATENCY_MS = 2_000;

describe('bridge crash safety: SIGKILL while the relay holds results', () => {
  let sfnLocal: SfnLocal;
  let sfn: SFNClient;
  let prefix: string;
  let connection: IORedis;
  let worker: Worker;
  let jobs: Queue;
  let machine: Awaited<ReturnType<typeof createActivityMachine>>;
  const bridges: BridgeProcess[] = [];
  const queue = 'crash-relay';
  let releaseHeldJobs!: () => void;
  const heldJobs = new Promise<void>((resolve) => (releaseHeldJobs = resolve));

  const env = () => bridgeEnv(prefix, sfnLocal.url, [{ activityArn: machine.activityArn, queue, pollers: 4 }], {});

  beforeAll(async () => {
    sfnLocal = await startSfnLocal({ pollSeconds: 2, quiet: true });
    sfn = testSfnClient(sfnLocal.url);
    prefix = uniquePrefix('crashrelay');
    machine = await createActivityMachine(sfn, 'crash-relay');
    connection = new IORedis(REDIS_URL, { maxRetriesPerRequest: null });
    jobs = new Queue(queue, { connection, prefix });
    worker = new Worker(
      queue,
      async (job) => {
        if (job.data.n >= IN_FLIGHT) await heldJobs;
        return { n: job.data.n, done: true };
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
    await jobs?.close();
    await connection?.quit();
    await sfnLocal?.close();
    sfn?.destroy();
    if (prefix) await cleanupPrefix(prefix);
  });

  it('sends no second result and ends every execution as the worker said', async () => {
    // 1. Every SendTaskSuccess waits LATENCY_MS in Step Functions before it is applied.
    sfnLocal.injectFault({ action: 'SendTaskSuccess', kind: 'latency', latencyMs: LATENCY_MS });
    const first = spawnBridge(env());
    bridges.push(first);
    const arns = await Promise.all(Array.from({ length: EXECUTIONS }, (_, n) => startExecution(sfn, machine.stateMachineArn, { n })));
    await waitFor(async () => (await listTaskRecords(connection, prefix)).size === EXECUTIONS, {
      timeoutMs: 20_000,
      message: `a task record for each of the ${EXECUTIONS} tasks\n${first.output()}`,
    });

    // 2. The first IN_FLIGHT jobs finish; the bridge's relay claims their records and sends their results, all held.
    await waitFor(() => (sfnLocal.counters().calls.SendTaskSuccess ?? 0) >= IN_FLIGHT, {
      timeoutMs: 20_000,
      message: `${IN_FLIGHT} SendTaskSuccess calls in flight (saw ${sfnLocal.counters().calls.SendTaskSuccess ?? 0})\n${first.output()}`,
    });
    expect(sfnLocal.counters().tasksClosed).toBe(0);
    const atKill = [...(await listTaskRecords(connection, prefix)).values()];

    // 3. SIGKILL with the calls in flight: they land after the bridge is gone.
    first.child.kill('SIGKILL');
    expect(await within(first.exited, 10_000, 'killed bridge to exit')).toBeNull();
    sfnLocal.clearFaults();
    await waitFor(() => sfnLocal.counters().tasksClosed === IN_FLIGHT, {
      timeoutMs: LATENCY_MS + 5_000,
      message: `the ${IN_FLIGHT} held results applied (closed: ${sfnLocal.counters().tasksClosed})`,
    });
    // Every task has its record, none closed; the relays in flight hold IN_FLIGHT of them (claimed once).
    expect({
      records: atKill.length,
      closed: atKill.filter((r) => r[TaskField.Closed]).length,
      claimedOnce: atKill.filter((r) => r[TaskField.Owner] && r[TaskField.Attempts] === '1').length,
      claimed: atKill.filter((r) => r[TaskField.Owner]).length,
    }).toEqual({ records: EXECUTIONS, closed: 0, claimedOnce: IN_FLIGHT, claimed: IN_FLIGHT });
    releaseHeldJobs();

    // 4. A new bridge takes the dead one's pending events over (after a lease) and relays the rest.
    const second = spawnBridge(env());
    bridges.push(second);
    const executions = await Promise.all(arns.map((arn) => waitForExecution(sfn, arn, 60_000)));
    executions.forEach((execution, n) => {
      expect({ n, status: execution.status, output: JSON.parse(execution.output ?? 'null') }).toEqual({
        n,
        status: 'SUCCEEDED',
        output: { n, done: true },
      });
    });
    for (const arn of arns) {
      const { events } = await sfn.send(new GetExecutionHistoryCommand({ executionArn: arn, maxResults: 1000 }));
      expect(events!.filter((e) => e.type === 'ActivitySucceeded' || e.type === 'ActivityFailed')).toHaveLength(1);
    }
    const records = await waitFor(
      async () => {
        const all = [...(await listTaskRecords(connection, prefix)).values()];
        return all.length === EXECUTIONS && all.every((r) => r[TaskField.Closed]) ? all : undefined;
      },
      { timeoutMs: 40_000, message: `every task record closed\n${second.output()}` },
    );
    // Every job end the dead bridge had been handed is taken over and acknowledged.
    await waitFor(async () => (await pendingEvents(connection, prefix, queue)) === 0, {
      timeoutMs: 30_000,
      message: `no event left pending in the bridge's consumer group\n${second.output()}`,
    });

    // 5. Counted by the emulator: no SendTaskSuccess/Failure ever reached a closed task, and the
    //    second bridge sent exactly the results the first had not.
    const after = sfnLocal.counters();
    expect({
      secondResults: duplicateRelays(after),
      successCalls: after.calls.SendTaskSuccess,
      failureCalls: after.calls.SendTaskFailure ?? 0,
    }).toEqual({
      secondResults: 0,
      successCalls: EXECUTIONS,
      failureCalls: 0,
    });
    // Counted from the records: the held relays close as `recovered` (the probe found the task
    // closed) or, when a heartbeat saw the closed task first, `cancelled`; neither sends anything.
    const tally = tallyStatuses(records);
    const heldIds = new Set(atKill.filter((r) => r[TaskField.Owner]).map((r) => r.jobId));
    const held = records.filter((r) => heldIds.has(r.jobId));
    expect({
      tally,
      relayed: tally.relayed,
      notResent: (tally.recovered ?? 0) + (tally.cancelled ?? 0),
      heldNotResent: held.filter((r) => ['recovered', 'cancelled'].includes(r[TaskField.Closed])).length,
      relayedReasons: [...new Set(records.filter((r) => r[TaskField.Closed] === 'relayed').map((r) => r[TaskField.Reason]))],
      tokensLeft: records.filter((r) => r[TaskField.Token] !== undefined).length,
    }).toEqual({
      tally,
      relayed: AFTER_KILL,
      notResent: IN_FLIGHT,
      heldNotResent: IN_FLIGHT,
      relayedReasons: ['success'],
      tokensLeft: 0,
    });
  }, 120_000);
});
