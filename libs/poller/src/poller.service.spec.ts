import type { SFNClient } from '@aws-sdk/client-sfn';
import { Logger } from '@nestjs/common';
import type { BindingConfig, BridgeConfig } from '@bridge/config';
import { BridgeMetrics } from '@bridge/metrics';
import type { TakenTask, TaskProducer } from '@bridge/producer';
import { jobIdForToken, RedisStatus } from '@bridge/queue';
import { CapacityGate } from './capacity-gate';
import { FakeSlotReservations } from './fake-slot-reservations';
import { PollerService } from './poller.service';
import { twoIntegers } from './slot-reservations.service';

/** A poll the test answers: with a task, empty, or an error. */
interface OpenPoll {
  resolve(out: { taskToken?: string; input?: string }): void;
  reject(err: Error): void;
}

function setup({ pollers = 3, minPollers = undefined as number | undefined, maxPending = 5, drainTimeoutMs = 5_000 } = {}) {
  const binding = {
    name: 'pay',
    activityArn: 'arn:aws:states:us-east-1:1:activity:pay',
    queue: 'pay',
    pollers,
    minPollers: minPollers ?? pollers,
    maxPending,
    heartbeatSeconds: 5,
  };
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
  const reservations = new FakeSlotReservations();
  const producer = {
    enqueue: jest.fn(async (_b: BindingConfig, task: TakenTask) => {
      await task.onWrite?.();
      return { enqueued: true, jobId: 'j' };
    }),
    cutRetries: jest.fn(),
  } as unknown as TaskProducer;
  const metrics = new BridgeMetrics();
  const redis = { up: true };
  const gate = new CapacityGate(reservations.asService(), redis as RedisStatus, metrics);
  const poller = new PollerService(config, client, gate, producer, metrics, reservations.asService());
  const running = () => poller.status()[0].activePollers;
  return { poller, open, producer, reservations, running, redis, sent: () => sent };
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

  it('never has more than maxPending tasks outstanding plus polls parked, however fast polls are answered with tasks', async () => {
    const { poller, open, producer, reservations, sent } = setup({ pollers: 3, maxPending: 5 });
    poller.onApplicationBootstrap();
    let n = 0;
    for (let round = 0; round < 20; round++) {
      await jest.advanceTimersByTimeAsync(300);
      while (open.length) open.shift()!.resolve({ taskToken: `t${n++}`, input: '{}' });
    }
    await jest.advanceTimersByTimeAsync(1_000);
    expect({ enqueued: (producer.enqueue as jest.Mock).mock.calls.length, polls: sent(), peak: reservations.peak }).toEqual({
      enqueued: 5,
      polls: 5,
      peak: 5,
    });
    await drainNow(poller);
  });

  it('asks Redis once for every loop waiting, and backs off while the binding stays full (no call per loop)', async () => {
    const { poller, open, reservations } = setup({ pollers: 10, maxPending: 10 });
    for (let i = 0; i < 10; i++) reservations.outstanding.add(`busy${i}`); // full: taken by other replicas
    poller.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(10_000);
    // 10 s full: 25, 50, ... 500 ms, then 2 calls/s for the binding, whatever the pollers.
    expect({ parked: open.length, reserveCalls: reservations.calls.reserve }).toEqual({ parked: 0, reserveCalls: expect.any(Number) });
    expect(reservations.calls.reserve).toBeLessThanOrEqual(25);
    reservations.outstanding.clear(); // those tasks closed
    await jest.advanceTimersByTimeAsync(600);
    expect({ parked: open.length, slots: reservations.slots }).toEqual({ parked: 10, slots: 10 });
    await drainNow(poller, () => open.splice(0).forEach((p) => p.resolve({})));
  });

  it('resumes polling as tasks close, and an empty poll polls again with its slot (no Redis call)', async () => {
    const { poller, open, producer, reservations } = setup({ pollers: 2, maxPending: 2 });
    poller.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(10);
    const reserveCalls = reservations.calls.reserve;
    for (let i = 0; i < 5; i++) {
      open.splice(0).forEach((p) => p.resolve({}));
      await jest.advanceTimersByTimeAsync(10);
    }
    expect({ parked: open.length, extraReserveCalls: reservations.calls.reserve - reserveCalls }).toEqual({
      parked: 2,
      extraReserveCalls: 0,
    });
    open.splice(0).forEach((p, i) => p.resolve({ taskToken: `a${i}` }));
    await jest.advanceTimersByTimeAsync(1_000);
    expect(open).toHaveLength(0);
    reservations.close(jobIdForToken('a0')); // relayed
    reservations.close(jobIdForToken('a1'));
    await jest.advanceTimersByTimeAsync(600);
    expect({ parked: open.length, enqueued: (producer.enqueue as jest.Mock).mock.calls.length }).toEqual({ parked: 2, enqueued: 2 });
    await drainNow(poller, () => open.splice(0).forEach((p) => p.resolve({})));
  });

  it('a loop holding a slot polls again only while Redis is up', async () => {
    const { poller, open, redis, sent } = setup({ pollers: 2, maxPending: 10 });
    poller.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(10);
    redis.up = false;
    open.splice(0).forEach((p) => p.resolve({}));
    await jest.advanceTimersByTimeAsync(2_000);
    const whileDown = sent();
    redis.up = true;
    await jest.advanceTimersByTimeAsync(300);
    expect({ whileDown, afterUp: sent(), parked: open.length }).toEqual({ whileDown: 2, afterUp: 4, parked: 2 });
    await drainNow(poller, () => open.splice(0).forEach((p) => p.resolve({})));
  });

  it('survives a misdirected "taken" reply: the task is enqueued once, polling goes on, nothing reads a non-number', async () => {
    const { poller, open, producer, reservations, running } = setup({ pollers: 2, maxPending: 10 });
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const taken = reservations.taken.bind(reservations);
    let misdirected = 0;
    reservations.taken = async (...args: Parameters<typeof taken>) => {
      if (misdirected++ === 0) return twoIntegers('sfnBridgeTaken', 'OK') as never;
      return taken(...args);
    };
    // As TaskProducer does: a try whose "taken" failed is retried (same job id, nothing added twice).
    (producer.enqueue as jest.Mock).mockImplementation(async (_b: BindingConfig, task: TakenTask) => {
      await task.onWrite?.().catch(() => task.onWrite?.());
      return { enqueued: true, jobId: 'j' };
    });
    poller.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(10);
    open.shift()!.resolve({ taskToken: 't-misdirected', input: '{}' });
    await jest.advanceTimersByTimeAsync(1_500);
    expect({
      enqueued: (producer.enqueue as jest.Mock).mock.calls.length,
      running: running(),
      parked: open.length,
      errors: error.mock.calls.length,
      outstanding: reservations.outstanding.size,
    }).toEqual({ enqueued: 1, running: 2, parked: 2, errors: 0, outstanding: 1 });
    await drainNow(poller, () => open.splice(0).forEach((p) => p.resolve({})));
  });

  it('replaces a poller whose loop threw, a second later, and keeps the process running', async () => {
    const { poller, open, running, producer } = setup({ pollers: 2, maxPending: 10 });
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    (producer.enqueue as jest.Mock).mockImplementationOnce(async () => {
      throw new TypeError('a bug in the hand-off');
    });
    poller.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(10);
    open.shift()!.resolve({ taskToken: 't-bug', input: '{}' });
    await jest.advanceTimersByTimeAsync(100);
    const afterThrow = running();
    await jest.advanceTimersByTimeAsync(1_000);
    expect({ afterThrow, afterRestart: running(), errors: error.mock.calls.length }).toEqual({ afterThrow: 1, afterRestart: 2, errors: 1 });
    expect(String(error.mock.calls[0][0])).toContain('a bug in the hand-off');
    await drainNow(poller, () => open.splice(0).forEach((p) => p.resolve({})));
  });

  it('autoscales: starts at min, grows toward max while polls return tasks, sheds back to min on empty polls', async () => {
    const { poller, open, running } = setup({ minPollers: 2, pollers: 16, maxPending: 1_000 });
    poller.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(10);
    const sizes = [running()];
    let n = 0;
    for (let round = 0; round < 6; round++) {
      open.splice(0).forEach((p) => p.resolve({ taskToken: `burst-${n++}` }));
      await jest.advanceTimersByTimeAsync(50);
      sizes.push(running());
    }
    expect(sizes).toEqual([2, 4, 8, 16, 16, 16, 16]);
    for (let round = 0; round < 3; round++) {
      open.splice(0).forEach((p) => p.resolve({})); // one poll hold with no task
      await jest.advanceTimersByTimeAsync(50);
    }
    expect({ running: running(), parked: open.length }).toEqual({ running: 2, parked: 2 });
    await drainNow(poller, () => open.splice(0).forEach((p) => p.resolve({})));
  });

  it('gives back the slots of shed pollers, so the autoscaler never hoards maxPending', async () => {
    const { poller, open, reservations } = setup({ minPollers: 1, pollers: 8, maxPending: 100 });
    poller.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(10);
    let n = 0;
    for (let round = 0; round < 4; round++) {
      open.splice(0).forEach((p) => p.resolve({ taskToken: `g-${n++}` }));
      await jest.advanceTimersByTimeAsync(50);
    }
    expect(reservations.slots).toBe(8);
    open.splice(0).forEach((p) => p.resolve({}));
    await jest.advanceTimersByTimeAsync(50);
    expect({ slots: reservations.slots, outstanding: reservations.outstanding.size }).toEqual({ slots: 1, outstanding: 15 });
    await drainNow(poller, () => open.splice(0).forEach((p) => p.resolve({})));
    expect(reservations.slots).toBe(0);
  });

  it('ActivityWorkerLimitExceeded stops the loop that got it and lowers the ceiling', async () => {
    const { poller, open, running } = setup({ pollers: 4, maxPending: 100 });
    poller.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(10);
    open.shift()!.reject(Object.assign(new Error('too many'), { name: 'ActivityWorkerLimitExceeded', $metadata: { httpStatusCode: 400 } }));
    await jest.advanceTimersByTimeAsync(100);
    expect(running()).toBe(3);
    await drainNow(poller, () => open.splice(0).forEach((p) => p.resolve({})));
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
