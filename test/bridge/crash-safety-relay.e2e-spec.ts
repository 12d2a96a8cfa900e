import { GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { BridgeQueue, RelayResult } from '@bridge/queue';
import { Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { SfnLocal, startSfnLocal } from '../../apps/sfn-local/src';
import { BridgeProcess, bridgeEnv, spawnBridge } from '../support/bridge';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../support/redis';
import { duplicateRelays } from '../support/relay-counters';
import { createActivityMachine, startExecution, testSfnClient, waitForExecution } from '../support/sfn';
import { waitFor, within } from '../support/wait-for';

/**
 * No second result through a crash mid-relay: a bridge is SIGKILLed while its relay worker holds
 * results whose SendTaskSuccess calls are in Step Functions' hands (a latency fault holds them in
 * the emulator, which applies them after the bridge is dead). The next bridge takes the stalled
 * relay jobs over, probes, finds the tasks closed and sends nothing again; results not yet sent
 * when the first bridge died are sent once. Runs the built bridge (`npm run build`).
 */

const IN_FLIGHT = 8;
const AFTER_KILL = 6;
const EXECUTIONS = IN_FLIGHT + AFTER_KILL;
const LATENCY_MS = 2_000;

describe('bridge crash safety: SIGKILL while the relay worker holds results', () => {
  let sfnLocal: SfnLocal;
  let sfn: SFNClient;
  let prefix: string;
  let connection: IORedis;
  let worker: Worker;
  let relayQueue: Queue;
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
    relayQueue = new Queue(BridgeQueue.Relay, { connection, prefix });
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
    await relayQueue?.close();
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

    // 2. The first IN_FLIGHT jobs finish; the bridge's relay sends their results, all held.
    await waitFor(() => (sfnLocal.counters().calls.SendTaskSuccess ?? 0) >= IN_FLIGHT, {
      timeoutMs: 20_000,
      message: `${IN_FLIGHT} SendTaskSuccess calls in flight (saw ${sfnLocal.counters().calls.SendTaskSuccess ?? 0})\n${first.output()}`,
    });
    expect(sfnLocal.counters().tasksClosed).toBe(0);
    const active = await relayQueue.getJobCountByTypes('active');

    // 3. SIGKILL with the calls in flight: they land after the bridge is gone.
    first.child.kill('SIGKILL');
    expect(await within(first.exited, 10_000, 'killed bridge to exit')).toBeNull();
    sfnLocal.clearFaults();
    await waitFor(() => sfnLocal.counters().tasksClosed === IN_FLIGHT, {
      timeoutMs: LATENCY_MS + 5_000,
      message: `the ${IN_FLIGHT} held results applied (closed: ${sfnLocal.counters().tasksClosed})`,
    });
    releaseHeldJobs();

    // 4. A new bridge takes the stalled relay jobs over and relays the rest.
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
    await waitFor(async () => (await relayQueue.getJobCountByTypes('completed')) === EXECUTIONS, {
      timeoutMs: 40_000,
      message: `every relay job completed\n${second.output()}`,
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
    const results = (await relayQueue.getJobs(['completed'])).map((j) => (j.returnvalue as RelayResult).status);
    const tally = results.reduce<Record<string, number>>((acc, s) => ({ ...acc, [s]: (acc[s] ?? 0) + 1 }), {});
    // The held relays close as `recovered` (the probe found the task closed) or, when a heartbeat
    // saw the closed task first, `cancelled`; neither sends anything.
    expect({ relayed: tally.relayed, notResent: (tally.recovered ?? 0) + (tally.cancelled ?? 0), activeAtKill: active }).toEqual({
      relayed: AFTER_KILL,
      notResent: IN_FLIGHT,
      activeAtKill: IN_FLIGHT,
    });
  }, 120_000);
});
