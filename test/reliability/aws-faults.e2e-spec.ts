import { DeleteActivityCommand, SFNClient } from '@aws-sdk/client-sfn';
import { PollerService } from '@bridge/poller';
import { SfnLocal, startSfnLocal } from '../../apps/sfn-local/src';
import { bridgeEnv, InProcessBridge, startBridge } from '../support/bridge';
import { uniquePrefix } from '../support/redis';
import { createActivityMachine, testSfnClient } from '../support/sfn';
import { waitFor } from '../support/wait-for';
import { CountingWorker, expectAsWorkerSaid, inputs, startMany, startPrivateRedis, waitAll } from './harness';

const POLLERS = 4;
const STORM_MS = 3_000;

describe('AWS faults: throttling storms, dropped connections and 5xx, a deleted activity', () => {
  let redisUrl: string;
  let cleanupRedis: () => Promise<void>;
  let sfnLocal: SfnLocal;
  let sfn: SFNClient;
  let bridge: InProcessBridge;
  let workerA: CountingWorker;
  let workerB: CountingWorker;
  let a: Awaited<ReturnType<typeof createActivityMachine>>;
  let b: Awaited<ReturnType<typeof createActivityMachine>>;

  beforeAll(async () => {
    const r = await startPrivateRedis();
    redisUrl = r.redis.url;
    cleanupRedis = r.cleanup;
    sfnLocal = await startSfnLocal({ pollSeconds: 1, quiet: true });
    sfn = testSfnClient(sfnLocal.url);
    a = await createActivityMachine(sfn, 'faults-a');
    b = await createActivityMachine(sfn, 'faults-b');
    const prefix = uniquePrefix('faults');
    bridge = await startBridge(
      bridgeEnv(
        prefix,
        sfnLocal.url,
        [
          { activityArn: a.activityArn, queue: 'faults-a', pollers: POLLERS },
          { activityArn: b.activityArn, queue: 'faults-b', pollers: POLLERS },
        ],
        { REDIS_URL: redisUrl, RELAY_BACKOFF_MS: '100', RELAY_ATTEMPTS: '15', SHUTDOWN_DRAIN_TIMEOUT_MS: '5000' },
      ),
    );
    workerA = new CountingWorker(redisUrl, 'faults-a', prefix);
    workerB = new CountingWorker(redisUrl, 'faults-b', prefix);
  }, 60_000);

  afterAll(async () => {
    await workerA?.close();
    await workerB?.close();
    await bridge?.close();
    await sfnLocal?.close();
    sfn?.destroy();
    await cleanupRedis?.();
  }, 60_000);

  afterEach(() => {
    sfnLocal.clearFaults();
  });

  it('survives a throttling storm on GetActivityTask with bounded, backed-off polling', async () => {
    const poller = bridge.app.get(PollerService);
    sfnLocal.injectFault({ action: 'GetActivityTask', kind: 'throttle' });
    await waitFor(() => poller.status()[0].lastError === 'ThrottlingException', {
      timeoutMs: 10_000,
      message: 'the poller to see throttling',
    });
    const callsAtStart = sfnLocal.counters().calls.GetActivityTask ?? 0;
    const work = inputs(0, 30);
    const arns = await startMany(sfn, a.stateMachineArn, work);
    // The storm's length is the scenario itself.
    await new Promise((r) => setTimeout(r, STORM_MS));
    const stormCalls = (sfnLocal.counters().calls.GetActivityTask ?? 0) - callsAtStart;
    sfnLocal.clearFaults();

    // 8 loops (2 bindings x 4) retrying without backoff would make thousands of calls in 3 s; with
    // full-jitter exponential backoff (base 200 ms) each makes a handful.
    expect(stormCalls).toBeLessThanOrEqual(2 * POLLERS * 10);
    expect(sfnLocal.counters().errors.GetActivityTask?.ThrottlingException ?? 0).toBeGreaterThan(0);

    const results = await waitAll(sfn, arns, 60_000);
    expectAsWorkerSaid(results, work);
    expect(workerA.duplicates()).toEqual([]);
    expect(poller.status().every((s) => s.healthy)).toBe(true);
  }, 90_000);

  it('survives dropped connections and 5xx on SendTaskSuccess/SendTaskFailure: every result relayed once, with bounded retries', async () => {
    // About a third of the result calls fail ambiguously (no answer, 5xx). The SDK does not retry
    // those (a result sent again could be a second result): each costs the relay a 3 s settle, a
    // probe and a backed-off retry, so a task needs 9 failures in a row (p ~ 1e-4) to outlast the wait.
    for (const action of ['SendTaskSuccess', 'SendTaskFailure']) {
      sfnLocal.injectFault({ action, kind: 'drop', probability: 0.15 });
      sfnLocal.injectFault({ action, kind: 'http500', probability: 0.1 });
      sfnLocal.injectFault({ action, kind: 'http503', probability: 0.1 });
    }
    const before = sfnLocal.counters();
    const work = inputs(100, 40);
    const arns = await startMany(sfn, a.stateMachineArn, work);
    const results = await waitAll(sfn, arns, 120_000);
    expectAsWorkerSaid(results, work);

    const after = sfnLocal.counters();
    const sends =
      (after.calls.SendTaskSuccess ?? 0) -
      (before.calls.SendTaskSuccess ?? 0) +
      (after.calls.SendTaskFailure ?? 0) -
      (before.calls.SendTaskFailure ?? 0);
    const faults =
      Object.values(after.faultsFired).reduce((n, v) => n + v, 0) - Object.values(before.faultsFired).reduce((n, v) => n + v, 0);
    expect(faults).toBeGreaterThan(0);
    expect(sends).toBeGreaterThan(work.length); // retries happened
    expect(sends).toBeLessThanOrEqual(work.length * 8); // and were bounded
    // Faults strike before the action runs, so no retry ever meets an already closed task.
    expect(after.duplicateSendTask - before.duplicateSendTask).toBe(0);
    expect(workerA.duplicates()).toEqual([]);
  }, 150_000);

  it('marks a binding whose activity was deleted unhealthy (ActivityDoesNotExist) and keeps the others running', async () => {
    const poller = bridge.app.get(PollerService);
    await sfn.send(new DeleteActivityCommand({ activityArn: a.activityArn }));
    const bindingA = () => poller.status().find((s) => s.activityArn === a.activityArn)!;
    await waitFor(() => !bindingA().healthy, { timeoutMs: 15_000, message: 'binding A unhealthy' });
    expect(bindingA().lastError).toBe('ActivityDoesNotExist');

    const ready = await fetch(`${bridge.url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.text()).toMatch(/ActivityDoesNotExist/);

    const work = inputs(200, 20);
    const arns = await startMany(sfn, b.stateMachineArn, work);
    const results = await waitAll(sfn, arns, 30_000);
    expectAsWorkerSaid(results, work);
    const bindingB = poller.status().find((s) => s.activityArn === b.activityArn)!;
    expect(bindingB.healthy).toBe(true);
    expect(bindingA().healthy).toBe(false);
  }, 60_000);
});
