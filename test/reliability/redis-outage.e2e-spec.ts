import { SFNClient } from '@aws-sdk/client-sfn';
import { CapacityGate, PollerService } from '@bridge/poller';
import { SfnLocal, startSfnLocal } from '../../apps/sfn-local/src';
import { PrivateRedis } from '../../apps/chaos/src/processes';
import { bridgeEnv, InProcessBridge, startBridge } from '../support/bridge';
import { uniquePrefix } from '../support/redis';
import { createActivityMachine, startExecution, testSfnClient, waitForExecution } from '../support/sfn';
import { waitFor } from '../support/wait-for';
import { CountingWorker, expectAsWorkerSaid, inputs, startMany, startPrivateRedis, waitAll } from './harness';

const POLLERS = 4;
/** How long the test keeps Redis down: the outage itself is the scenario, not a wait for an event. */
const OUTAGE_MS = 3_000;

describe('Redis stopped and restarted mid-run', () => {
  let redis: PrivateRedis;
  let cleanupRedis: () => Promise<void>;
  let sfnLocal: SfnLocal;
  let sfn: SFNClient;
  let bridge: InProcessBridge;
  let worker: CountingWorker;
  let machine: Awaited<ReturnType<typeof createActivityMachine>>;
  const queue = 'outage';

  beforeAll(async () => {
    ({ redis, cleanup: cleanupRedis } = await startPrivateRedis());
    sfnLocal = await startSfnLocal({ pollSeconds: 1, quiet: true });
    sfn = testSfnClient(sfnLocal.url);
    machine = await createActivityMachine(sfn, 'outage');
    const prefix = uniquePrefix('outage');
    bridge = await startBridge(
      bridgeEnv(prefix, sfnLocal.url, [{ activityArn: machine.activityArn, queue, pollers: POLLERS, maxPending: 500 }], {
        REDIS_URL: redis.url,
        ENQUEUE_RETRY_FOR_MS: '20000',
        SHUTDOWN_DRAIN_TIMEOUT_MS: '5000',
      }),
    );
    worker = new CountingWorker(redis.url, queue, prefix, 20);
  }, 60_000);

  afterAll(async () => {
    if (redis && !redis.running) await redis.start();
    await waitFor(() => bridge.app.get(CapacityGate).redisReady(), { timeoutMs: 20_000, message: 'the bridge to reconnect' }).catch(() => undefined);
    await worker?.close();
    await bridge?.close();
    await sfnLocal?.close();
    sfn?.destroy();
    await cleanupRedis?.();
  }, 60_000);

  it('ends executions started before, during and after the outage as the worker said, and pauses polling while Redis is down', async () => {
    const gate = bridge.app.get(CapacityGate);
    const poller = bridge.app.get(PollerService);

    const before = inputs(0, 30).map((i) => ({ ...i, workMs: 100 }));
    const beforeArns = await startMany(sfn, machine.stateMachineArn, before);
    await worker.waitForFinished(5);

    await redis.stop('SIGTERM');
    await waitFor(() => !gate.redisReady(), { timeoutMs: 10_000, message: 'the bridge to see Redis down' });
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
    expect(sfnLocal.counters().duplicateSendTask).toBe(0);
    // The tasks that waited in Step Functions during the outage were handed out afterwards.
    expect(sfnLocal.counters().tasksHandedOut).toBe(all.length);
  }, 120_000);
});

describe('a token taken while Redis is down and not back within ENQUEUE_RETRY_FOR_MS', () => {
  let redis: PrivateRedis;
  let cleanupRedis: () => Promise<void>;
  let sfnLocal: SfnLocal;
  let sfn: SFNClient;
  let bridge: InProcessBridge;
  let machine: Awaited<ReturnType<typeof createActivityMachine>>;

  beforeAll(async () => {
    ({ redis, cleanup: cleanupRedis } = await startPrivateRedis());
    // A long hold keeps the bridge's polls parked across the start of the outage.
    sfnLocal = await startSfnLocal({ pollSeconds: 30, quiet: true });
    sfn = testSfnClient(sfnLocal.url);
    machine = await createActivityMachine(sfn, 'enqueue-failed');
    bridge = await startBridge(
      bridgeEnv(uniquePrefix('enqfail'), sfnLocal.url, [{ activityArn: machine.activityArn, queue: 'enqfail', pollers: 2 }], {
        REDIS_URL: redis.url,
        ENQUEUE_RETRY_FOR_MS: '1500',
        SHUTDOWN_DRAIN_TIMEOUT_MS: '3000',
      }),
    );
  }, 60_000);

  afterAll(async () => {
    if (redis && !redis.running) await redis.start();
    await waitFor(() => bridge.app.get(CapacityGate).redisReady(), { timeoutMs: 20_000, message: 'the bridge to reconnect' }).catch(() => undefined);
    await bridge?.close();
    await sfnLocal?.close();
    sfn?.destroy();
    await cleanupRedis?.();
  }, 60_000);

  it('fails the task with SendTaskFailure Bridge.EnqueueFailed (execution FAILED), never a silent drop', async () => {
    const poller = bridge.app.get(PollerService);
    const gate = bridge.app.get(CapacityGate);
    await waitFor(() => poller.status()[0].parkedPolls === 2, { timeoutMs: 10_000, message: 'both polls parked' });

    await redis.stop('SIGKILL');
    await waitFor(() => !gate.redisReady(), { timeoutMs: 10_000, message: 'the bridge to see Redis down' });
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
  let redis: PrivateRedis;
  let cleanupRedis: () => Promise<void>;
  let sfnLocal: SfnLocal;
  let sfn: SFNClient;
  let bridge: InProcessBridge;
  let worker: CountingWorker;
  let machine: Awaited<ReturnType<typeof createActivityMachine>>;
  const queue = 'enqretry';

  beforeAll(async () => {
    ({ redis, cleanup: cleanupRedis } = await startPrivateRedis());
    sfnLocal = await startSfnLocal({ pollSeconds: 30, quiet: true });
    sfn = testSfnClient(sfnLocal.url);
    // HeartbeatSeconds 2: the token must be heartbeated while its write waits for Redis.
    machine = await createActivityMachine(sfn, 'enqueue-retry', { heartbeatSeconds: 2 });
    const prefix = uniquePrefix('enqretry');
    bridge = await startBridge(
      bridgeEnv(prefix, sfnLocal.url, [{ activityArn: machine.activityArn, queue, pollers: 2, heartbeatSeconds: 1 }], {
        REDIS_URL: redis.url,
        ENQUEUE_RETRY_FOR_MS: '20000',
        SHUTDOWN_DRAIN_TIMEOUT_MS: '3000',
      }),
    );
    worker = new CountingWorker(redis.url, queue, prefix);
  }, 60_000);

  afterAll(async () => {
    if (redis && !redis.running) await redis.start();
    await waitFor(() => bridge.app.get(CapacityGate).redisReady(), { timeoutMs: 20_000, message: 'the bridge to reconnect' }).catch(() => undefined);
    await worker?.close();
    await bridge?.close();
    await sfnLocal?.close();
    sfn?.destroy();
    await cleanupRedis?.();
  }, 60_000);

  it('keeps the token alive (heartbeats) while the write is retried, then runs it', async () => {
    const poller = bridge.app.get(PollerService);
    const gate = bridge.app.get(CapacityGate);
    await waitFor(() => poller.status()[0].parkedPolls === 2, { timeoutMs: 10_000, message: 'both polls parked' });
    await redis.stop('SIGKILL');
    await waitFor(() => !gate.redisReady(), { timeoutMs: 10_000, message: 'the bridge to see Redis down' });
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
