import type { SFNClient } from '@aws-sdk/client-sfn';
import { Logger } from '@nestjs/common';
import type { BindingConfig, BridgeConfig } from '@bridge/config';
import { BridgeMetrics } from '@bridge/metrics';
import type { TaskProducer } from '@bridge/producer';
import type { RedisStatus } from '@bridge/queue';
import type { Queue } from 'bullmq';
import { CapacityGate } from './capacity-gate';
import { PollerService } from './poller.service';

/** A poll the test answers: with a task, empty, or an error. */
interface OpenPoll {
  resolve(out: { taskToken?: string; input?: string }): void;
  reject(err: Error): void;
}

function setup({ pollers = 3, maxPending = 5, drainTimeoutMs = 5_000 } = {}) {
  const binding = { name: 'pay', activityArn: 'arn:aws:states:us-east-1:1:activity:pay', queue: 'pay', pollers, maxPending, heartbeatSeconds: 5 };
  const config = { bindings: [binding as BindingConfig], workerName: 'w', shutdown: { drainTimeoutMs } } as unknown as BridgeConfig;
  const open: OpenPoll[] = [];
  let sent = 0;
  const client = {
    send: jest.fn(
      () =>
        new Promise((resolve, reject) => {
          sent++;
          open.push({ resolve, reject });
        }),
    ),
  } as unknown as SFNClient;
  let inQueue = 0;
  const queue = { getJobCountByTypes: jest.fn(async () => inQueue) } as unknown as Queue;
  const producer = {
    enqueue: jest.fn(async () => {
      inQueue++;
      return { enqueued: true, jobId: 'j' };
    }),
  } as unknown as TaskProducer;
  const metrics = new BridgeMetrics();
  const gate = new CapacityGate(new Map([['pay', queue]]), { up: true } as RedisStatus, metrics);
  const poller = new PollerService(config, client, gate, producer, metrics);
  return { poller, open, producer, sent: () => sent, setQueued: (n: number) => (inQueue = n) };
}

const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });

describe('PollerService (fake Step Functions client, fake timers)', () => {
  let warn: jest.SpyInstance;
  beforeEach(() => {
    jest.useFakeTimers();
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('never takes more than maxPending tasks, however fast polls are answered with tasks', async () => {
    const { poller, open, producer, sent } = setup({ pollers: 3, maxPending: 5 });
    poller.onApplicationBootstrap();
    for (let round = 0; round < 20; round++) {
      await jest.advanceTimersByTimeAsync(300); // past the count TTL and the re-check interval
      while (open.length) open.shift()!.resolve({ taskToken: `t${round}-${sent()}`, input: '{}' });
    }
    await jest.advanceTimersByTimeAsync(1_000);
    expect({ enqueued: (producer.enqueue as jest.Mock).mock.calls.length, polls: sent() }).toEqual({ enqueued: 5, polls: 5 });
    await drainNow(poller);
  });

  it('lets loops released by the same queue count take only the one slot left (the backpressure flake)', async () => {
    const { poller, open, setQueued } = setup({ pollers: 3, maxPending: 5 });
    setQueued(4);
    poller.onApplicationBootstrap(); // all three loops wait for the same first count
    await jest.advanceTimersByTimeAsync(1_000);
    expect(open).toHaveLength(1);
    await drainNow(poller, () => open.splice(0).forEach((p) => p.resolve({})));
  });

  it('starts polling again as the queue empties', async () => {
    const { poller, open, producer, setQueued } = setup({ pollers: 2, maxPending: 2 });
    poller.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(10);
    while (open.length) open.shift()!.resolve({ taskToken: `a${open.length}` });
    await jest.advanceTimersByTimeAsync(1_000);
    expect(open).toHaveLength(0);
    setQueued(0); // consumers finished both jobs
    await jest.advanceTimersByTimeAsync(500);
    expect(open).toHaveLength(2);
    expect((producer.enqueue as jest.Mock).mock.calls).toHaveLength(2);
    await drainNow(poller);
  });

  it('logs 10 % throttled polls as one incident line, not one per throttle nor a recovery per success', async () => {
    const { poller, open } = setup({ pollers: 4, maxPending: 1_000 });
    poller.onApplicationBootstrap();
    let answered = 0;
    let throttles = 0;
    for (let i = 0; i < 400; i++) {
      await jest.advanceTimersByTimeAsync(25);
      while (open.length) {
        const p = open.shift()!;
        if (answered++ % 10 === 0) {
          throttles++;
          p.reject(throttled());
        } else p.resolve({});
      }
    }
    expect(throttles).toBeGreaterThan(20);
    const lines = warn.mock.calls.map((c) => String(c[0]));
    expect(lines).toEqual(['Binding pay: GetActivityTask failed: ThrottlingException: Rate exceeded; backing off']);
    await drainNow(poller, () => open.splice(0).forEach((p) => p.resolve({})));
  });

  it('on drain starts no poll, waits for the parked ones and enqueues the task one returns', async () => {
    const { poller, open, producer, sent } = setup({ pollers: 2, maxPending: 10 });
    poller.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(10);
    expect(open).toHaveLength(2);
    let drained = false;
    const draining = poller.drain().then(() => (drained = true));
    await jest.advanceTimersByTimeAsync(1_000);
    expect(drained).toBe(false); // parked polls are never aborted
    open.shift()!.resolve({ taskToken: 'late-task' });
    open.shift()!.resolve({});
    await jest.advanceTimersByTimeAsync(10);
    await draining;
    expect((producer.enqueue as jest.Mock).mock.calls.map((c) => c[1].taskToken)).toEqual(['late-task']);
    expect(sent()).toBe(2);
  });

  it('gives up the drain after SHUTDOWN_DRAIN_TIMEOUT_MS when a poll never comes back', async () => {
    const { poller, open } = setup({ pollers: 1, drainTimeoutMs: 2_000 });
    poller.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(10);
    let drained = false;
    const draining = poller.drain().then(() => (drained = true));
    await jest.advanceTimersByTimeAsync(1_999);
    expect(drained).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    await draining;
    expect(warn.mock.calls.map((c) => String(c[0]))).toContain('Drain timed out; some parked polls were still open');
    open.splice(0).forEach((p) => p.resolve({}));
  });
});

async function drainNow(poller: PollerService, answer?: () => void): Promise<void> {
  const draining = poller.drain();
  answer?.();
  await jest.advanceTimersByTimeAsync(6_000);
  await draining;
}
