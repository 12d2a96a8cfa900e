import { CapacityGate, PollerService } from '@bridge/poller';
import { PrivateRedis } from '@bridge/common';
import { BridgeFixture, BridgeFixtureOptions } from '../support/bridge-fixture';
import { duplicateRelays } from '../support/relay-counters';
import { startExecution, waitForExecution } from '../support/sfn';
import { waitFor } from '../support/wait-for';
import { CountingWorker, expectAsWorkerSaid, inputs, startMany, startPrivateRedis, waitAll } from './harness';

const POLLERS = 4;
/** How long the test keeps Redis down: the outage itself is the scenario, not a wait for an event. */
const OUTAGE_MS = 3_000;

interface OutageSetup {
  redis: PrivateRedis;
  fx: BridgeFixture;
  worker: CountingWorker;
}

/**
 * Adds the describe's beforeAll / afterAll: a private Redis the test may stop, the bridge fixture
 * on it, and (with `withWorker`) a CountingWorker on the binding's queue. afterAll brings Redis
 * back and lets the bridge reconnect before closing it.
 */
function withPrivateRedis(options: Omit<BridgeFixtureOptions, 'redisUrl'>, withWorker = false): OutageSetup {
  const setup = {} as OutageSetup;
  let cleanupRedis: () => Promise<void>;

  beforeAll(async () => {
    ({ redis: setup.redis, cleanup: cleanupRedis } = await startPrivateRedis());
    setup.fx = await BridgeFixture.start({ ...options, redisUrl: setup.redis.url });
    if (withWorker) setup.worker = setup.fx.track(new CountingWorker(setup.redis.url, setup.fx.queue, setup.fx.prefix, 20));
  }, 60_000);

  afterAll(async () => {
    const { redis, fx } = setup;
    if (redis && !redis.running) await redis.start();
    await waitFor(() => fx.bridge.app.get(CapacityGate).redisReady(), { timeoutMs: 20_000, message: 'the bridge to reconnect' }).catch(
      () => undefined,
    );
    try {
      await fx?.close();
    } finally {
      await cleanupRedis?.();
    }
  }, 60_000);

  return setup;
}

/** Stops Redis and waits until the bridge has seen it go. */
async function stopRedis({ redis, fx }: OutageSetup, signal: NodeJS.Signals): Promise<void> {
  await redis.stop(signal);
  await waitFor(() => !fx.bridge.app.get(CapacityGate).redisReady(), { timeoutMs: 10_000, message: 'the bridge to see Redis down' });
}

async function bothPollsParked({ fx }: OutageSetup): Promise<void> {
  const poller = fx.bridge.app.get(PollerService);
  await waitFor(() => poller.status()[0].parkedPolls === 2, { timeoutMs: 10_000, message: 'both polls parked' });
}

describe('Redis stopped and restarted mid-run', () => {
  const setup = withPrivateRedis(
    {
      label: 'outage',
      pollSeconds: 1,
      binding: { pollers: POLLERS, maxPending: 500 },
      env: { ENQUEUE_RETRY_FOR_MS: '20000', SHUTDOWN_DRAIN_TIMEOUT_MS: '5000' },
    },
    true,
  );

  it('ends executions started before, during and after the outage as the worker said, and pauses polling while Redis is down', async () => {
    const {
      redis,
      worker,
      fx: { bridge, sfn, sfnLocal, machine },
    } = setup;
    const poller = bridge.app.get(PollerService);

    const before = inputs(0, 30).map((i) => ({ ...i, workMs: 100 }));
    const beforeArns = await startMany(sfn, machine.stateMachineArn, before);
    await worker.waitForFinished(5);

    await stopRedis(setup, 'SIGTERM');
    const callsAtOutage = sfnLocal.counters().calls.GetActivityTask ?? 0;
    const parkedAtOutage = poller.status().reduce((n, s) => n + s.parkedPolls, 0);

    const during = inputs(100, 30);
    const duringArns = await startMany(sfn, machine.stateMachineArn, during);
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    const callsDuringOutage = (sfnLocal.counters().calls.GetActivityTask ?? 0) - callsAtOutage;
    // With a 1 s hold, 4 unpaused loops would have polled about 12 times in 3 s (and taken tasks
    // that could not be written). Only polls already parked may come back (and those are
    // counted at arrival, before the outage), plus one per loop that had passed the gate.
    expect(callsDuringOutage).toBeLessThanOrEqual(POLLERS);
    expect(parkedAtOutage).toBeLessThanOrEqual(POLLERS);

    await redis.start();
    const after = inputs(200, 30);
    const afterArns = await startMany(sfn, machine.stateMachineArn, after);

    const all = [...before, ...during, ...after];
    const results = await waitAll(sfn, [...beforeArns, ...duringArns, ...afterArns], 60_000);
    expectAsWorkerSaid(results, all);
    expect(worker.duplicates()).toEqual([]);
    // No result sent twice (a heartbeat or the relay's probe reaching a just-closed task is benign).
    const c = sfnLocal.counters();
    expect({
      secondResults: duplicateRelays(c),
      rejectedResults: (c.errors.SendTaskSuccess?.TaskTimedOut ?? 0) + (c.errors.SendTaskFailure?.TaskTimedOut ?? 0),
    }).toEqual({
      secondResults: 0,
      rejectedResults: 0,
    });
    // The tasks that waited in Step Functions during the outage were handed out afterwards.
    expect(sfnLocal.counters().tasksHandedOut).toBe(all.length);
  }, 120_000);
});

describe('a token taken while Redis is down and not back within ENQUEUE_RETRY_FOR_MS', () => {
  // A long hold keeps the bridge's polls parked across the start of the outage.
  const setup = withPrivateRedis({
    label: 'enqfail',
    activity: 'enqueue-failed',
    pollSeconds: 30,
    binding: { pollers: 2 },
    env: { ENQUEUE_RETRY_FOR_MS: '1500', SHUTDOWN_DRAIN_TIMEOUT_MS: '3000' },
  });

  it('fails the task with SendTaskFailure Bridge.EnqueueFailed (execution FAILED), never a silent drop', async () => {
    const { sfn, sfnLocal, machine } = setup.fx;
    await bothPollsParked(setup);

    await stopRedis(setup, 'SIGKILL');
    const started = Date.now();
    const arn = await startExecution(sfn, machine.stateMachineArn, { n: 1 });
    const done = await waitForExecution(sfn, arn, 20_000);

    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('Bridge.EnqueueFailed');
    expect(done.cause).toMatch(/could not write the task to queue "enqfail" within 1500 ms/);
    // Failed once the retry budget is spent: not before, and not a whole 5 s write timeout later.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(Date.now() - started).toBeLessThan(1_500 + 2_500);
    expect(sfnLocal.counters().calls.SendTaskFailure).toBe(1);
  }, 60_000);
});

describe('a token taken while Redis is down, Redis back within ENQUEUE_RETRY_FOR_MS', () => {
  // HeartbeatSeconds 2: the token must be heartbeated while its write waits for Redis.
  const setup = withPrivateRedis(
    {
      label: 'enqretry',
      activity: 'enqueue-retry',
      pollSeconds: 30,
      task: { heartbeatSeconds: 2 },
      binding: { pollers: 2, heartbeatSeconds: 1 },
      env: { ENQUEUE_RETRY_FOR_MS: '20000', SHUTDOWN_DRAIN_TIMEOUT_MS: '3000' },
    },
    true,
  );

  it('keeps the token alive (heartbeats) while the write is retried, then runs it', async () => {
    const {
      redis,
      worker,
      fx: { sfn, machine },
    } = setup;
    await bothPollsParked(setup);
    await stopRedis(setup, 'SIGKILL');
    const arn = await startExecution(sfn, machine.stateMachineArn, { n: 7 });
    // Down for twice the Task's HeartbeatSeconds.
    await new Promise((r) => setTimeout(r, 4_000));
    await redis.start();
    const done = await waitForExecution(sfn, arn, 20_000);
    expect({ status: done.status, error: done.error }).toEqual({ status: 'SUCCEEDED', error: undefined });
    expect(JSON.parse(done.output!)).toEqual({ n: 7, doubled: 14 });
    expect(worker.runs.get(7)).toBe(1);
  }, 60_000);
});
