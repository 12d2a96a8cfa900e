import { BridgeConfig, loadConfig } from '@bridge/config';
import { HeartbeatSchedule } from '@bridge/heartbeat';
import { BridgeMetrics } from '@bridge/metrics';
import { TaskCallbacks } from '@bridge/sfn';
import { FlowProducer } from 'bullmq';
import IORedis from 'ioredis';
import { EventEmitter } from 'node:events';
import { jobIdForToken } from '@bridge/queue';
import { ADD_TIMEOUT_MS, MIN_TRY_MS, TaskProducer } from './task-producer.service';
import { WRITE_CHECK_COMMAND } from './write-check.lua';

const ARN = 'arn:aws:states:us-east-1:123456789012:activity:unit';

function setup(env: Record<string, string>) {
  const config: BridgeConfig = loadConfig({ BRIDGE_BINDINGS: `bindings:\n  - activityArn: ${ARN}\n    queue: unit\n`, ...env });
  const flow = { add: jest.fn() };
  // The producer's own connection: the schedule ZADD, the write check's script, its events.
  const connection = Object.assign(new EventEmitter(), {
    zadd: jest.fn(),
    status: 'ready',
    defineCommand: jest.fn(),
    disconnect: jest.fn(),
    [WRITE_CHECK_COMMAND]: jest.fn(),
  });
  const callbacks = { failure: jest.fn().mockResolvedValue({ ok: true }), heartbeat: jest.fn() };
  const schedule = new HeartbeatSchedule({ defineCommand: jest.fn() } as unknown as IORedis, config);
  const metrics = new BridgeMetrics();
  const producer = new TaskProducer(
    flow as unknown as FlowProducer,
    connection,
    config,
    callbacks as unknown as TaskCallbacks,
    metrics,
    schedule,
  );
  return {
    config,
    binding: config.bindings[0],
    flow,
    connection,
    readBack: connection[WRITE_CHECK_COMMAND],
    callbacks,
    schedule,
    metrics,
    producer,
  };
}

const task = () => ({ taskToken: 'token-1', input: '{"n":1}', receivedAt: Date.now() });

describe('TaskProducer', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('issues the schedule entry and the flow in the same tick (one round trip), then hands the token to the shared schedule', async () => {
    const { binding, flow, connection, schedule, producer } = setup({});
    connection.zadd.mockResolvedValue(1);
    flow.add.mockResolvedValue({});
    const result = producer.enqueue(binding, task());
    // Both commands were issued before the first await returned control.
    expect({ zadd: connection.zadd.mock.calls.length, add: flow.add.mock.calls.length }).toEqual({ zadd: 1, add: 1 });
    expect(schedule.memoryCounts()).toEqual({ known: 1, pending: 1 });
    await expect(result).resolves.toMatchObject({ enqueued: true });
    expect(schedule.memoryCounts()).toEqual({ known: 1, pending: 0 });
  });

  it('retries a fast-failing write for the whole ENQUEUE_RETRY_FOR_MS, keeping the token pending, then fails it once with Bridge.EnqueueFailed', async () => {
    const { binding, flow, connection, callbacks, schedule, producer } = setup({ ENQUEUE_RETRY_FOR_MS: '1500' });
    const down = new Error("Stream isn't writeable and enableOfflineQueue options is false");
    connection.zadd.mockRejectedValue(down);
    flow.add.mockRejectedValue(down);
    const started = Date.now();
    let settledAt: number | undefined;
    const result = producer.enqueue(binding, task()).finally(() => (settledAt = Date.now()));
    await jest.advanceTimersByTimeAsync(1_400);
    expect({ failures: callbacks.failure.mock.calls.length, pending: schedule.memoryCounts().pending }).toEqual({
      failures: 0,
      pending: 1,
    });
    await jest.advanceTimersByTimeAsync(2_000);
    await expect(result).resolves.toEqual({ enqueued: false, reason: down.message });
    expect(settledAt! - started).toBeGreaterThanOrEqual(1_500);
    expect(settledAt! - started).toBeLessThan(1_500 + MIN_TRY_MS);
    expect(callbacks.failure.mock.calls.map((c) => c[1])).toEqual(['Bridge.EnqueueFailed']);
    expect(flow.add.mock.calls.length).toBeGreaterThan(2);
    expect(schedule.memoryCounts()).toEqual({ known: 0, pending: 0 });
  });

  it('at shutdown stops retrying a failing write at the cut and fails the task once, well inside ENQUEUE_RETRY_FOR_MS', async () => {
    const { binding, flow, connection, callbacks, producer } = setup({ ENQUEUE_RETRY_FOR_MS: '30000' });
    const down = new Error('Too many Cluster redirections. Last error: Error: Connection is closed.');
    connection.zadd.mockRejectedValue(down);
    flow.add.mockRejectedValue(down);
    let settled = false;
    const result = producer.enqueue(binding, task()).finally(() => (settled = true));
    await jest.advanceTimersByTimeAsync(1_000);
    producer.cutRetries(Date.now() + 1_000);
    await jest.advanceTimersByTimeAsync(3_500);
    expect({ settled, failures: callbacks.failure.mock.calls.length }).toEqual({ settled: true, failures: 1 });
    await expect(result).resolves.toEqual({ enqueued: false, reason: down.message });
  });

  it('bounds a write Redis never answers per try, and never past the retry budget', async () => {
    const { binding, flow, connection, callbacks, producer } = setup({ ENQUEUE_RETRY_FOR_MS: '12000' });
    connection.zadd.mockReturnValue(new Promise(() => undefined));
    flow.add.mockReturnValue(new Promise(() => undefined));
    const started = Date.now();
    let settledAt: number | undefined;
    void producer.enqueue(binding, task()).finally(() => (settledAt = Date.now()));
    await jest.advanceTimersByTimeAsync(ADD_TIMEOUT_MS - 1);
    expect(flow.add).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(12_000 + MIN_TRY_MS);
    expect(settledAt).toBeDefined();
    expect(settledAt! - started).toBeGreaterThanOrEqual(12_000);
    expect(settledAt! - started).toBeLessThanOrEqual(12_000 + MIN_TRY_MS);
    expect(callbacks.failure).toHaveBeenCalledTimes(1);
  });

  it('cancels the relay job of a write that lands after the task was failed (its failure was the one result)', async () => {
    const { binding, flow, connection, callbacks, producer } = setup({ ENQUEUE_RETRY_FOR_MS: '1000' });
    const updateData = jest.fn().mockResolvedValue(undefined);
    connection.zadd.mockResolvedValue(1);
    flow.add.mockReturnValue(new Promise((r) => setTimeout(() => r({ job: { data: { taskToken: 'token-1' }, updateData } }), 6_000)));
    const result = producer.enqueue(binding, task());
    await jest.advanceTimersByTimeAsync(1_000 + MIN_TRY_MS);
    await expect(result).resolves.toMatchObject({ enqueued: false });
    expect({ failed: callbacks.failure.mock.calls.length, cancelled: updateData.mock.calls.length }).toEqual({ failed: 1, cancelled: 0 });
    await jest.advanceTimersByTimeAsync(6_000);
    expect(updateData.mock.calls).toEqual([[{ taskToken: 'token-1', cancelled: 'Bridge.EnqueueFailed' }]]);
  });

  it('fails a try at once, issuing nothing, while its connection is not ready (a Cluster queues commands offline)', async () => {
    const { binding, flow, connection, readBack, producer } = setup({});
    connection.status = 'reconnecting';
    connection.zadd.mockResolvedValue(1);
    flow.add.mockResolvedValue({});
    readBack.mockResolvedValue([jobIdForToken('token-1'), 'written']);
    const result = producer.enqueue(binding, task());
    await jest.advanceTimersByTimeAsync(50);
    expect({ zadd: connection.zadd.mock.calls.length, add: flow.add.mock.calls.length }).toEqual({ zadd: 0, add: 0 });
    connection.status = 'ready';
    await jest.advanceTimersByTimeAsync(10_000);
    await expect(result).resolves.toMatchObject({ enqueued: true });
    expect(flow.add).toHaveBeenCalledTimes(1);
  });

  describe('a write acknowledged while the connection was in trouble (issue 10: ioredis can acknowledge a write that never landed)', () => {
    const JOB = jobIdForToken('token-1');

    it('is not read back on a quiet connection: the normal path costs nothing more', async () => {
      const { binding, flow, connection, readBack, producer } = setup({});
      connection.zadd.mockResolvedValue(1);
      flow.add.mockResolvedValue({});
      await expect(producer.enqueue(binding, task())).resolves.toMatchObject({ enqueued: true });
      expect(readBack).not.toHaveBeenCalled();
    });

    it('after a failed try, reads the acknowledged write back and, found missing, writes it again before it counts', async () => {
      const { binding, flow, connection, readBack, callbacks, schedule, producer } = setup({});
      connection.zadd.mockResolvedValue(1);
      flow.add.mockRejectedValueOnce(new Error('CLUSTERDOWN The cluster is down')).mockResolvedValue({});
      readBack.mockResolvedValueOnce([JOB, 'missing']).mockResolvedValueOnce([JOB, 'written']);
      const result = producer.enqueue(binding, task());
      await jest.advanceTimersByTimeAsync(10_000);
      await expect(result).resolves.toEqual({ enqueued: true, jobId: JOB });
      expect({
        writes: flow.add.mock.calls.length,
        readBacks: readBack.mock.calls.length,
        failures: callbacks.failure.mock.calls.length,
      }).toEqual({
        writes: 3,
        readBacks: 2,
        failures: 0,
      });
      expect(schedule.memoryCounts()).toEqual({ known: 1, pending: 0 });
    });

    it('after a Cluster topology event, reads back even a first try', async () => {
      const { binding, flow, connection, readBack, producer } = setup({});
      connection.emit('-node');
      connection.zadd.mockResolvedValue(1);
      flow.add.mockResolvedValue({});
      readBack.mockResolvedValue([JOB, 'written']);
      await expect(producer.enqueue(binding, task())).resolves.toMatchObject({ enqueued: true });
      expect(readBack).toHaveBeenCalledTimes(1);
    });

    it('counts dispatch up to the acknowledged write, not the read-back that confirms it', async () => {
      const { binding, flow, connection, readBack, metrics, producer } = setup({});
      connection.emit('-node');
      connection.zadd.mockResolvedValue(1);
      flow.add.mockResolvedValue({});
      readBack.mockImplementation(() => new Promise((resolve) => setTimeout(() => resolve([JOB, 'written']), 2_000)));
      const result = producer.enqueue(binding, task());
      await jest.advanceTimersByTimeAsync(2_000);
      await expect(result).resolves.toMatchObject({ enqueued: true });
      const values = (await metrics.dispatchSeconds.get()).values;
      const sum = values.find((v) => v.metricName === 'sfn_bridge_dispatch_seconds_sum')?.value;
      expect({ sum, underReadBack: (sum ?? Infinity) < 1 }).toEqual({ sum, underReadBack: true });
    });

    it('fails the task once with Bridge.EnqueueFailed when the write is never found within ENQUEUE_RETRY_FOR_MS', async () => {
      const { binding, flow, connection, readBack, callbacks, producer } = setup({ ENQUEUE_RETRY_FOR_MS: '2000' });
      connection.emit('node error', new Error('connect ECONNREFUSED'));
      connection.zadd.mockResolvedValue(1);
      flow.add.mockResolvedValue({});
      readBack.mockResolvedValue([JOB, 'missing']);
      const result = producer.enqueue(binding, task());
      await jest.advanceTimersByTimeAsync(2_000 + MIN_TRY_MS);
      await expect(result).resolves.toEqual({ enqueued: false, reason: 'Redis write: it was acknowledged but its jobs are not in Redis' });
      expect(callbacks.failure.mock.calls.map((c) => c[1])).toEqual(['Bridge.EnqueueFailed']);
    });

    it('reconnects the connection when a reply proves misaligned (read-back or reservation script), and writes again', async () => {
      const { binding, flow, connection, readBack, producer } = setup({});
      const wrongShape = Object.assign(new Error('sfnBridgeTaken answered string "OK" where two integers were expected'), {
        name: 'UnexpectedReplyError',
      });
      connection.zadd.mockResolvedValue(1);
      flow.add.mockResolvedValue({});
      readBack.mockResolvedValueOnce('OK').mockResolvedValue([JOB, 'written']);
      const onWrite = jest.fn().mockRejectedValueOnce(wrongShape).mockResolvedValue([1, 1]);
      const result = producer.enqueue(binding, { ...task(), onWrite });
      await jest.advanceTimersByTimeAsync(10_000);
      await expect(result).resolves.toMatchObject({ enqueued: true });
      // The wrong-shaped reservation reply reconnects at once; the read-back's wrong reply, within
      // the next second, finds that reconnect already done.
      expect(connection.disconnect.mock.calls).toEqual([[true]]);
      expect(flow.add.mock.calls.length).toBe(3);
    });
  });
});
