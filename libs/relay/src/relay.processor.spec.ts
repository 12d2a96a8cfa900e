import { BridgeConfig, loadConfig } from '@bridge/config';
import { HeartbeatSchedule } from '@bridge/heartbeat';
import { BridgeMetrics } from '@bridge/metrics';
import { RelayJobData } from '@bridge/queue';
import { CallbackResult, SfnErrorKind, TaskCallbacks } from '@bridge/sfn';
import { Job } from 'bullmq';
import { successOutcome } from './outcome';
import { AMBIGUOUS_SETTLE_MS, RECHECK_LOCK_AFTER_MS, RelayLockLostError } from './relay-attempt';
import { RelayRetryableError } from './relay-retryable.error';
import { RelayProcessor } from './relay.processor';
import { TaskOutcomeResolver } from './task-outcome.resolver';

const ARN = 'arn:aws:states:us-east-1:123456789012:activity:unit';
const OK: CallbackResult = { ok: true };
const gone = (name = 'TaskTimedOut'): CallbackResult => ({ ok: false, kind: SfnErrorKind.TaskGone, name, error: new Error(name) });
const transient = (name = 'ServiceUnavailable'): CallbackResult => ({
  ok: false,
  kind: SfnErrorKind.Transient,
  name,
  error: new Error(name),
});
const throttled = (): CallbackResult => ({ ok: false, kind: SfnErrorKind.Throttled, name: 'ThrottlingException', error: new Error('t') });

function setup() {
  const config: BridgeConfig = loadConfig({ BRIDGE_BINDINGS: `bindings:\n  - activityArn: ${ARN}\n    queue: unit\n` });
  const resolver = { resolve: jest.fn().mockResolvedValue({ outcome: successOutcome({ ok: 1 }) }) };
  const callbacks = {
    success: jest.fn().mockResolvedValue(OK),
    failure: jest.fn().mockResolvedValue(OK),
    heartbeat: jest.fn().mockResolvedValue(OK),
  };
  const schedule = { remove: jest.fn().mockResolvedValue(undefined) };
  const metrics = new BridgeMetrics();
  const processor = new RelayProcessor(
    config,
    resolver as unknown as TaskOutcomeResolver,
    callbacks as unknown as TaskCallbacks,
    metrics,
    schedule as unknown as HeartbeatSchedule,
  );
  const job = (over: Partial<{ attemptsStarted: number; stalledCounter: number; attemptsMade: number; cancelled: string }> = {}) =>
    ({
      id: 'job-1',
      data: {
        taskToken: 'token-1',
        binding: 'unit',
        queue: 'unit',
        receivedAt: Date.now(),
        ...(over.cancelled ? { cancelled: over.cancelled } : {}),
      },
      attemptsStarted: over.attemptsStarted ?? 1,
      stalledCounter: over.stalledCounter ?? 0,
      attemptsMade: over.attemptsMade ?? 0,
      opts: { attempts: 3 },
      extendLock: jest.fn().mockResolvedValue(1),
    }) as unknown as Job<RelayJobData> & { extendLock: jest.Mock };
  const relays = async (outcome: string) => (await metrics.relays.get()).values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
  return { resolver, callbacks, schedule, processor, job, relays };
}

describe('RelayProcessor', () => {
  afterEach(() => jest.useRealTimers());

  it('sends at once on a first attempt: no probe, no lock check', async () => {
    const { callbacks, processor, job } = setup();
    const j = job();
    await expect(processor.process(j, 'lock')).resolves.toEqual({ status: 'relayed', outcome: 'success' });
    expect({
      success: callbacks.success.mock.calls.length,
      heartbeat: callbacks.heartbeat.mock.calls.length,
      extendLock: j.extendLock.mock.calls.length,
    }).toEqual({
      success: 1,
      heartbeat: 0,
      extendLock: 0,
    });
  });

  it.each([
    ['retried', { attemptsStarted: 2, attemptsMade: 1 }],
    ['stalled (its replica died)', { attemptsStarted: 2, stalledCounter: 1 }],
  ])('closes a %s job as recovered, sending nothing, when the probe finds the task closed', async (_, over) => {
    const { callbacks, processor, job, relays } = setup();
    callbacks.heartbeat.mockResolvedValue(gone());
    await expect(processor.process(job(over), 'lock')).resolves.toEqual({ status: 'recovered', reason: 'TaskTimedOut' });
    expect({
      success: callbacks.success.mock.calls.length,
      failure: callbacks.failure.mock.calls.length,
      recovered: await relays('recovered'),
    }).toEqual({
      success: 0,
      failure: 0,
      recovered: 1,
    });
  });

  it('sends after the probe when the task is still open', async () => {
    const { callbacks, processor, job } = setup();
    await expect(processor.process(job({ attemptsStarted: 3, attemptsMade: 2 }), 'lock')).resolves.toEqual({
      status: 'relayed',
      outcome: 'success',
    });
    expect(callbacks.heartbeat.mock.invocationCallOrder[0]).toBeLessThan(callbacks.success.mock.invocationCallOrder[0]);
  });

  it('closes as expired when the first send finds the task gone, and stops its heartbeats', async () => {
    const { callbacks, schedule, processor, job, relays } = setup();
    callbacks.success.mockResolvedValue(gone('TaskDoesNotExist'));
    await expect(processor.process(job(), 'lock')).resolves.toEqual({ status: 'expired', reason: 'TaskDoesNotExist' });
    expect({ expired: await relays('expired'), removed: schedule.remove.mock.calls.map((c) => c[0]) }).toEqual({
      expired: 1,
      removed: ['job-1'],
    });
  });

  it('retries a throttled send at once (it provably did not land)', async () => {
    const { callbacks, schedule, processor, job } = setup();
    callbacks.success.mockResolvedValue(throttled());
    await expect(processor.process(job(), 'lock')).rejects.toBeInstanceOf(RelayRetryableError);
    expect(schedule.remove).not.toHaveBeenCalled();
  });

  it('holds an ambiguous failure (5xx, timeout) for AMBIGUOUS_SETTLE_MS before giving the job back', async () => {
    jest.useFakeTimers();
    const { callbacks, processor, job } = setup();
    callbacks.success.mockResolvedValue(transient());
    let settled: unknown;
    const run = processor.process(job(), 'lock').catch((e: unknown) => (settled = e));
    await jest.advanceTimersByTimeAsync(AMBIGUOUS_SETTLE_MS - 1);
    expect(settled).toBeUndefined();
    await jest.advanceTimersByTimeAsync(1);
    await run;
    expect(settled).toBeInstanceOf(RelayRetryableError);
  });

  it('gives up on the last attempt: stops heartbeating the task (Step Functions times it out) and throws', async () => {
    const { callbacks, schedule, processor, job } = setup();
    callbacks.success.mockResolvedValue(throttled());
    await expect(processor.process(job({ attemptsStarted: 3, attemptsMade: 2 }), 'lock')).rejects.toThrow(
      /attempt 3\/3: ThrottlingException/,
    );
    expect(schedule.remove.mock.calls.map((c) => c[0])).toEqual(['job-1']);
  });

  it('re-takes its lock before sending after a long attempt, and sends nothing when the lock is gone', async () => {
    jest.useFakeTimers();
    const { resolver, callbacks, processor, job } = setup();
    resolver.resolve.mockImplementation(
      () => new Promise((r) => setTimeout(() => r({ outcome: successOutcome({ ok: 1 }) }), RECHECK_LOCK_AFTER_MS + 1)),
    );
    const j = job();
    j.extendLock.mockResolvedValue(0);
    const run = processor.process(j, 'lock').catch((e: unknown) => e);
    await jest.advanceTimersByTimeAsync(RECHECK_LOCK_AFTER_MS + 1);
    expect(await run).toBeInstanceOf(RelayLockLostError);
    expect({ extendLock: j.extendLock.mock.calls, success: callbacks.success.mock.calls.length }).toEqual({
      extendLock: [['lock', 10_000]],
      success: 0,
    });
  });

  it('closes a cancelled job without any call', async () => {
    const { callbacks, processor, job } = setup();
    await expect(processor.process(job({ cancelled: 'TaskTimedOut' }), 'lock')).resolves.toEqual({
      status: 'cancelled',
      reason: 'TaskTimedOut',
    });
    expect(callbacks.success.mock.calls.length + callbacks.heartbeat.mock.calls.length).toBe(0);
  });

  it('counts the attempt from when the job became active (processedOn), not from when processing began', async () => {
    const { callbacks, processor, job } = setup();
    const j = Object.assign(job(), { processedOn: Date.now() - RECHECK_LOCK_AFTER_MS - 1_000 });
    j.extendLock.mockResolvedValue(0);
    await expect(processor.process(j, 'lock')).rejects.toBeInstanceOf(RelayLockLostError);
    expect(callbacks.success).not.toHaveBeenCalled();
  });
});
