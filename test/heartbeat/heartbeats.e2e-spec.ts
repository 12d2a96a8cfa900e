import { SFNClient } from '@aws-sdk/client-sfn';
import { sleep } from '@bridge/common';
import { Job, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { SfnLocal, startSfnLocal } from '../../apps/sfn-local/src';
import { bridgeEnv, startBridge } from '../support/bridge';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../support/redis';
import { createActivityMachine, startExecution, testSfnClient, waitForExecution } from '../support/sfn';

describe('heartbeats keep outstanding tokens alive', () => {
  let sfnLocal: SfnLocal;
  let sfn: SFNClient;
  let connection: IORedis;
  const prefixes: string[] = [];
  const closers: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    sfnLocal = await startSfnLocal({ pollSeconds: 2, quiet: true });
    sfn = testSfnClient(sfnLocal.url);
    connection = new IORedis(REDIS_URL, { maxRetriesPerRequest: null });
  });

  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    await Promise.all(prefixes.splice(0).map(cleanupPrefix));
  });

  afterAll(async () => {
    await connection.quit();
    await sfnLocal.close();
    sfn.destroy();
  });

  async function setup(label: string, heartbeatSeconds: number, binding: Record<string, unknown>, env: Record<string, string> = {}) {
    const prefix = uniquePrefix(label);
    prefixes.push(prefix);
    const machine = await createActivityMachine(sfn, label, { heartbeatSeconds, timeoutSeconds: 120 });
    const bridge = await startBridge(
      bridgeEnv(prefix, sfnLocal.url, [{ activityArn: machine.activityArn, queue: label, ...binding }], env),
    );
    closers.push(() => bridge.close());
    return { prefix, machine, bridge };
  }

  function worker(queue: string, prefix: string, fn: (job: Job) => Promise<unknown>, concurrency = 1): Worker {
    const w = new Worker(queue, fn, { connection, prefix, concurrency });
    closers.push(() => w.close());
    return w;
  }

  it('keeps a task with HeartbeatSeconds 3 alive through a 10 s job and through 10 s waiting behind a busy worker', async () => {
    const { prefix, machine } = await setup('hb-slow', 3, { heartbeatSeconds: 1 });
    worker('hb-slow', prefix, async (job) => {
      await sleep(job.data.ms);
      return { done: job.data.n };
    });
    const first = await startExecution(sfn, machine.stateMachineArn, { n: 1, ms: 10_000 });
    // Started right after: waits ~10 s in the queue (worker concurrency 1), then runs briefly.
    const second = await startExecution(sfn, machine.stateMachineArn, { n: 2, ms: 100 });
    const [a, b] = await Promise.all([waitForExecution(sfn, first, 30_000), waitForExecution(sfn, second, 30_000)]);
    expect([a.status, a.error]).toEqual(['SUCCEEDED', undefined]);
    expect([b.status, b.error]).toEqual(['SUCCEEDED', undefined]);
    expect(JSON.parse(b.output!)).toEqual({ done: 2 });
    const waited = sfnLocal.tasks({ executionArn: second })[0];
    expect(waited.closedAt! - waited.handedOutAt!).toBeGreaterThan(9_000);
  }, 45_000);

  it('turns consumer progress into heartbeats when the binding interval alone would be too slow', async () => {
    const { prefix, machine } = await setup('hb-progress', 3, { heartbeatSeconds: 60 }, { HEARTBEAT_PROGRESS_MIN_INTERVAL_MS: '500' });
    worker('hb-progress', prefix, async (job) => {
      for (let i = 1; i <= 8; i++) {
        await sleep(1_000);
        await job.updateProgress(i * 12);
      }
      return 'ok';
    });
    const arn = await startExecution(sfn, machine.stateMachineArn, {});
    const done = await waitForExecution(sfn, arn, 30_000);
    expect([done.status, done.error]).toEqual(['SUCCEEDED', undefined]);
  }, 45_000);

  it('sends one heartbeat per interval per token with two replicas, not two', async () => {
    const { prefix, machine } = await setup('hb-replicas', 30, { heartbeatSeconds: 1 });
    const second = await startBridge(
      bridgeEnv(prefix, sfnLocal.url, [{ activityArn: machine.activityArn, queue: 'hb-replicas', heartbeatSeconds: 1 }]),
    );
    closers.push(() => second.close());
    let release!: () => void;
    const hold = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    worker('hb-replicas', prefix, async () => {
      started();
      await hold;
      return 'ok';
    });
    const arn = await startExecution(sfn, machine.stateMachineArn, {});
    await running;
    const before = sfnLocal.counters().heartbeats;
    await sleep(6_000);
    const sent = sfnLocal.counters().heartbeats - before;
    release();
    expect((await waitForExecution(sfn, arn)).status).toBe('SUCCEEDED');
    // One replica alone would send ~6 in 6 s; two uncoordinated replicas ~12.
    expect(sent).toBeGreaterThanOrEqual(4);
    expect(sent).toBeLessThanOrEqual(8);
  }, 45_000);

  it('keeps heartbeats within HEARTBEAT_RATE_PER_SECOND however many tokens are due', async () => {
    const { prefix, machine } = await setup('hb-budget', 60, { heartbeatSeconds: 1, maxPending: 100 }, { HEARTBEAT_RATE_PER_SECOND: '5' });
    let release!: () => void;
    const hold = new Promise<void>((r) => (release = r));
    worker('hb-budget', prefix, async () => hold.then(() => 'ok'), 30);
    const arns = await Promise.all(Array.from({ length: 30 }, () => startExecution(sfn, machine.stateMachineArn, {})));
    const before = sfnLocal.counters().heartbeats;
    await sleep(4_000);
    const sent = sfnLocal.counters().heartbeats - before;
    release();
    await Promise.all(arns.map((a) => waitForExecution(sfn, a)));
    // 30 tokens at a 1 s interval would be ~120 heartbeats in 4 s; the budget allows ~5/s (+ burst).
    expect(sent).toBeGreaterThan(5);
    expect(sent).toBeLessThanOrEqual(30);
  }, 45_000);
});
