/**
 * TaskProducer as a unit: its Redis is faked (a binding queue with `add`, the producer connection
 * with the record-write script, the schedule ZADD, the write-check and record-cancel scripts) so the order
 * of the commands of one task write, its retries (each first reading back what an earlier try left)
 * and its failure (after closing the record a try may have left) can be driven in fake time. What
 * those commands do in Redis is covered against a real one (libs/queue task-records.spec.ts,
 * write-check.lua.spec.ts).
 */
import { Logger } from '@nestjs/common';
import { BridgeConfig, loadConfig } from '@bridge/config';
import { HeartbeatSchedule, leadMs } from '@bridge/heartbeat';
import { BridgeMetrics } from '@bridge/metrics';
import { jobIdForToken, tombstoneMs } from '@bridge/queue';
import { TaskCallbacks } from '@bridge/sfn';
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { EventEmitter } from 'node:events';
import { taskJobOptions } from './task-job';
import { ADD_TIMEOUT_MS, MIN_TRY_MS, TaskProducer } from './task-producer.service';
import { WRITE_CHECK_COMMAND } from './write-check.lua';

const ARN = 'arn:aws:states:us-east-1:123456789012:activity:unit';
const TOKEN = 'token-1-of-the-unit-task';
const JOB = jobIdForToken(TOKEN);

function setup(env: Record<string, string>) {
  const config: BridgeConfig = loadConfig({ BRIDGE_BINDINGS: `bindings:\n  - activityArn: ${ARN}\n    queue: unit\n`, ...env });
  const binding = config.bindings[0];
  // The binding queue (PRODUCER_QUEUES): BullMQ's Queue.add.
  const queue = { add: jest.fn() };
  // The producer's own connection: the record write (a script: the record only with its job), the
  // schedule ZADD, the scripts, its events.
  const connection = Object.assign(new EventEmitter(), {
    zadd: jest.fn(),
    /** TaskRecords.write's script (defineCommand'd): 1 written, 0 its job was not there (nothing written). */
    sfnBridgeWriteRecord: jest.fn().mockResolvedValue(1),
    status: 'ready',
    defineCommand: jest.fn(),
    disconnect: jest.fn(),
    [WRITE_CHECK_COMMAND]: jest.fn(),
    sfnBridgeCancelTask: jest.fn().mockResolvedValue('cancelled'),
  });
  const callbacks = { failure: jest.fn().mockResolvedValue({ ok: true }), heartbeat: jest.fn() };
  const schedule = new HeartbeatSchedule({ defineCommand: jest.fn() } as unknown as IORedis, config);
  const metrics = new BridgeMetrics();
  const producer = new TaskProducer(
    new Map([[binding.queue, queue as unknown as Queue]]),
    connection,
    config,
    callbacks as unknown as TaskCallbacks,
    metrics,
    schedule,
  );
  return {
    config,
    binding,
    queue,
    connection,
    readBack: connection[WRITE_CHECK_COMMAND],
    cancel: connection.sfnBridgeCancelTask,
    callbacks,
    schedule,
    metrics,
    producer,
    recordKey: `${config.redis.prefix}:sfn-bridge:task:${JOB}`,
    /** BullMQ's hash of the task's job, the second key of the record write. */
    jobKey: `${config.redis.prefix}:${binding.queue}:${JOB}`,
    /** Commands of the task write issued so far (record: the record-write script). */
    issued: () => ({
      add: queue.add.mock.calls.length,
      record: connection.sfnBridgeWriteRecord.mock.calls.length,
      zadd: connection.zadd.mock.calls.length,
    }),
  };
}

const task = () => ({ taskToken: TOKEN, input: '{"n":1}', receivedAt: Date.now() });

/** Lets fake time run `ms` (0: only the end of this turn, where the record and schedule entry are issued), then awaits `p`. */
async function after<T>(ms: number, p: Promise<T>): Promise<T> {
  await jest.advanceTimersByTimeAsync(ms);
  return p;
}

describe('TaskProducer', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('issues the job add, then the record write and the schedule ZADD in the same turn, before the write is awaited; then hands the token to the shared schedule', async () => {
    const { binding, queue, connection, schedule, producer, issued } = setup({});
    let landed!: () => void;
    queue.add.mockReturnValue(new Promise((resolve) => (landed = () => resolve({}))));
    connection.sfnBridgeWriteRecord.mockResolvedValue(1);
    connection.zadd.mockResolvedValue(1);
    const result = producer.enqueue(binding, task());
    // The add is issued at once; the record and the schedule entry at the end of this turn, after it.
    expect(issued()).toEqual({ add: 1, record: 0, zadd: 0 });
    await jest.advanceTimersByTimeAsync(0);
    expect(issued()).toEqual({ add: 1, record: 1, zadd: 1 });
    const order = [queue.add, connection.sfnBridgeWriteRecord, connection.zadd].map((f) => f.mock.invocationCallOrder[0]);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    // Nothing has landed yet: the token is kept alive from memory.
    expect(schedule.memoryCounts()).toEqual({ known: 1, pending: 1 });
    landed();
    await expect(result).resolves.toEqual({ enqueued: true, jobId: JOB });
    expect(schedule.memoryCounts()).toEqual({ known: 1, pending: 0 });
  });

  it('adds the parsed input as the job data, never the token; the record holds the token, the schedule entry the first beat', async () => {
    const { binding, queue, connection, schedule, producer, recordKey, jobKey } = setup({});
    queue.add.mockResolvedValue({});
    connection.sfnBridgeWriteRecord.mockResolvedValue(1);
    connection.zadd.mockResolvedValue(1);
    const receivedAt = Date.now();
    const result = producer.enqueue(binding, { taskToken: TOKEN, input: '{"order":{"id":7}}', receivedAt });
    await expect(after(0, result)).resolves.toEqual({ enqueued: true, jobId: JOB });
    expect(queue.add.mock.calls).toEqual([[binding.jobName, { order: { id: 7 } }, taskJobOptions(binding, JOB)]]);
    expect(JSON.stringify(queue.add.mock.calls).includes(TOKEN)).toBe(false);
    expect(connection.sfnBridgeWriteRecord.mock.calls).toEqual([
      [recordKey, jobKey, 'token', TOKEN, 'binding', binding.name, 'queue', binding.queue, 'receivedAt', receivedAt],
    ]);
    const intervalMs = binding.heartbeatSeconds * 1000;
    expect(connection.zadd.mock.calls).toEqual([[schedule.keys.schedule, 'NX', receivedAt + intervalMs - leadMs(intervalMs), JOB]]);
  });

  it('retries a fast-failing write for the whole ENQUEUE_RETRY_FOR_MS, keeping the token pending, then fails it once with Bridge.EnqueueFailed', async () => {
    const { binding, queue, connection, readBack, callbacks, cancel, schedule, producer, recordKey } = setup({
      ENQUEUE_RETRY_FOR_MS: '1500',
    });
    const down = new Error("Stream isn't writeable and enableOfflineQueue options is false");
    connection.zadd.mockRejectedValue(down);
    connection.sfnBridgeWriteRecord.mockRejectedValue(down);
    queue.add.mockRejectedValue(down);
    // What an earlier try left cannot be read either: unknown, so each retry writes again.
    readBack.mockRejectedValue(down);
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
    expect(queue.add.mock.calls.length).toBeGreaterThan(2);
    expect(readBack.mock.calls.length).toBe(queue.add.mock.calls.length - 1);
    expect(schedule.memoryCounts()).toEqual({ known: 0, pending: 0 });
    // No try was seen to land, but one might have: its record is closed (a tombstone) once, before
    // the failure is sent, and no try's record landed later, so nothing else is cancelled.
    expect(cancel.mock.calls).toEqual([[recordKey, 'Bridge.EnqueueFailed', tombstoneMs(1_500)]]);
    expect(cancel.mock.invocationCallOrder[0]).toBeLessThan(callbacks.failure.mock.invocationCallOrder[0]);
    expect(connection.disconnect).not.toHaveBeenCalled();
  });

  it('at shutdown stops retrying a failing write at the cut and fails the task once, well inside ENQUEUE_RETRY_FOR_MS', async () => {
    const { binding, queue, connection, readBack, callbacks, producer } = setup({ ENQUEUE_RETRY_FOR_MS: '30000' });
    const down = new Error('Too many Cluster redirections. Last error: Error: Connection is closed.');
    connection.zadd.mockRejectedValue(down);
    connection.sfnBridgeWriteRecord.mockRejectedValue(down);
    queue.add.mockRejectedValue(down);
    readBack.mockRejectedValue(down);
    let settled = false;
    const result = producer.enqueue(binding, task()).finally(() => (settled = true));
    await jest.advanceTimersByTimeAsync(1_000);
    producer.cutRetries(Date.now() + 1_000);
    await jest.advanceTimersByTimeAsync(3_500);
    expect({ settled, failures: callbacks.failure.mock.calls.length }).toEqual({ settled: true, failures: 1 });
    await expect(result).resolves.toEqual({ enqueued: false, reason: down.message });
  });

  it('bounds a write Redis never answers per try, and never past the retry budget', async () => {
    const { binding, queue, connection, readBack, callbacks, producer } = setup({ ENQUEUE_RETRY_FOR_MS: '12000' });
    connection.zadd.mockReturnValue(new Promise(() => undefined));
    connection.sfnBridgeWriteRecord.mockReturnValue(new Promise(() => undefined));
    queue.add.mockReturnValue(new Promise(() => undefined));
    // The read-back of an earlier try is bounded the same way (the record cancel before the failure answers).
    readBack.mockReturnValue(new Promise(() => undefined));
    const started = Date.now();
    let settledAt: number | undefined;
    void producer.enqueue(binding, task()).finally(() => (settledAt = Date.now()));
    await jest.advanceTimersByTimeAsync(ADD_TIMEOUT_MS - 1);
    expect(queue.add).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(12_000 + MIN_TRY_MS);
    expect(settledAt).toBeDefined();
    expect(settledAt! - started).toBeGreaterThanOrEqual(12_000);
    expect(settledAt! - started).toBeLessThanOrEqual(12_000 + MIN_TRY_MS);
    expect(callbacks.failure).toHaveBeenCalledTimes(1);
  });

  it('closes the record of a write that lands after the task was failed, via the cancel script (its failure was the one result)', async () => {
    const { binding, queue, connection, callbacks, cancel, producer, recordKey } = setup({ ENQUEUE_RETRY_FOR_MS: '1000' });
    // The whole write (one socket write) is answered 6 s late, past the 1 s budget.
    const late = <T>(value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), 6_000));
    queue.add.mockImplementation(() => late({}));
    connection.sfnBridgeWriteRecord.mockImplementation(() => late(1));
    connection.zadd.mockImplementation(() => late(1));
    // Before the failure no record is there: the cancel leaves a tombstone; the late write then finds it closed.
    cancel.mockResolvedValueOnce('cancelled').mockResolvedValue('closed');
    const result = producer.enqueue(binding, task());
    await jest.advanceTimersByTimeAsync(1_000 + MIN_TRY_MS);
    await expect(result).resolves.toMatchObject({ enqueued: false });
    expect({ failed: callbacks.failure.mock.calls.map((c) => c[1]), cancelled: cancel.mock.calls.length }).toEqual({
      failed: ['Bridge.EnqueueFailed'],
      cancelled: 1,
    });
    expect(cancel.mock.invocationCallOrder[0]).toBeLessThan(callbacks.failure.mock.invocationCallOrder[0]);
    await jest.advanceTimersByTimeAsync(6_000);
    expect(cancel.mock.calls).toEqual([
      [recordKey, 'Bridge.EnqueueFailed', tombstoneMs(1_000)],
      [recordKey, 'Bridge.EnqueueFailed', tombstoneMs(1_000)],
    ]);
    expect(callbacks.failure).toHaveBeenCalledTimes(1);
  });

  it('fails a try at once, issuing nothing, while its connection is not ready (a Cluster queues commands offline)', async () => {
    const { binding, queue, connection, readBack, producer, issued } = setup({});
    connection.status = 'reconnecting';
    connection.zadd.mockResolvedValue(1);
    connection.sfnBridgeWriteRecord.mockResolvedValue(1);
    queue.add.mockResolvedValue({});
    // Once ready: no earlier try landed (none was issued); the write, then acknowledged, is read back.
    readBack.mockResolvedValueOnce([JOB, 'missing']).mockResolvedValue([JOB, 'written']);
    const result = producer.enqueue(binding, task());
    await jest.advanceTimersByTimeAsync(50);
    expect({ ...issued(), readBacks: readBack.mock.calls.length }).toEqual({ add: 0, record: 0, zadd: 0, readBacks: 0 });
    connection.status = 'ready';
    await jest.advanceTimersByTimeAsync(10_000);
    await expect(result).resolves.toMatchObject({ enqueued: true });
    expect({ ...issued(), readBacks: readBack.mock.calls.length }).toEqual({ add: 1, record: 1, zadd: 1, readBacks: 2 });
  });

  it('fails a try whose record the script did not write (its job not in Redis: 0), and writes the task again until it lands, enqueuing it once', async () => {
    const { binding, queue, connection, readBack, callbacks, cancel, schedule, metrics, producer, issued } = setup({});
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    queue.add.mockResolvedValue({});
    connection.zadd.mockResolvedValue(1);
    // The first try's add did not land before its record (a Cluster client reordering them): nothing written.
    connection.sfnBridgeWriteRecord.mockResolvedValueOnce(0).mockResolvedValue(1);
    // The retry reads what the first try left (no record: missing), writes again, and reads that back (written).
    readBack.mockResolvedValueOnce([JOB, 'missing']).mockResolvedValue([JOB, 'written']);
    try {
      const result = producer.enqueue(binding, task());
      await jest.advanceTimersByTimeAsync(10_000);
      await expect(result).resolves.toEqual({ enqueued: true, jobId: JOB });
      const total = async (counter: typeof metrics.tasksEnqueued) => (await counter.get()).values.reduce((n, v) => n + v.value, 0);
      expect({
        ...issued(),
        jobIds: queue.add.mock.calls.map((c) => c[2].jobId),
        readBacks: readBack.mock.calls.length,
        firstTryFailed: warn.mock.calls.some(([m]) => String(m).includes('its job was not in Redis when its record was written')),
        failures: callbacks.failure.mock.calls.length,
        cancels: cancel.mock.calls.length,
        enqueued: await total(metrics.tasksEnqueued),
        enqueueFailures: await total(metrics.enqueueFailures),
        memory: schedule.memoryCounts(),
      }).toEqual({
        add: 2,
        record: 2,
        zadd: 2,
        jobIds: [JOB, JOB],
        readBacks: 2,
        firstTryFailed: true,
        failures: 0,
        cancels: 0,
        enqueued: 1,
        enqueueFailures: 0,
        memory: { known: 1, pending: 0 },
      });
    } finally {
      warn.mockRestore();
    }
  });

  describe('a write acknowledged while the connection was in trouble (issue 10: ioredis can acknowledge a write that never landed)', () => {
    it('is not read back on a quiet connection: the normal path costs nothing more', async () => {
      const { binding, queue, connection, readBack, producer } = setup({});
      connection.zadd.mockResolvedValue(1);
      connection.sfnBridgeWriteRecord.mockResolvedValue(1);
      queue.add.mockResolvedValue({});
      await expect(after(0, producer.enqueue(binding, task()))).resolves.toMatchObject({ enqueued: true });
      expect(readBack).not.toHaveBeenCalled();
    });

    it('after a failed try, reads the acknowledged write back and, found missing, writes it again before it counts', async () => {
      const { binding, queue, connection, readBack, callbacks, schedule, producer, issued } = setup({});
      connection.zadd.mockResolvedValue(1);
      connection.sfnBridgeWriteRecord.mockResolvedValue(1);
      queue.add.mockRejectedValueOnce(new Error('CLUSTERDOWN The cluster is down')).mockResolvedValue({});
      // Per retry: what the earlier try left (missing), then the acknowledged write (missing, then written).
      readBack
        .mockResolvedValueOnce([JOB, 'missing'])
        .mockResolvedValueOnce([JOB, 'missing'])
        .mockResolvedValueOnce([JOB, 'missing'])
        .mockResolvedValueOnce([JOB, 'written']);
      const result = producer.enqueue(binding, task());
      await jest.advanceTimersByTimeAsync(10_000);
      await expect(result).resolves.toEqual({ enqueued: true, jobId: JOB });
      expect({ ...issued(), readBacks: readBack.mock.calls.length, failures: callbacks.failure.mock.calls.length }).toEqual({
        add: 3,
        record: 3,
        zadd: 3,
        readBacks: 4,
        failures: 0,
      });
      expect(schedule.memoryCounts()).toEqual({ known: 1, pending: 0 });
    });

    it('after a Cluster topology event, reads back even a first try, with the record key, the schedule and the job id', async () => {
      const { binding, queue, connection, readBack, schedule, producer, recordKey } = setup({});
      connection.emit('-node');
      connection.zadd.mockResolvedValue(1);
      connection.sfnBridgeWriteRecord.mockResolvedValue(1);
      queue.add.mockResolvedValue({});
      readBack.mockResolvedValue([JOB, 'written']);
      await expect(after(0, producer.enqueue(binding, task()))).resolves.toMatchObject({ enqueued: true });
      expect(readBack.mock.calls).toEqual([[recordKey, schedule.keys.schedule, JOB]]);
    });

    it('counts dispatch up to the acknowledged write, not the read-back that confirms it', async () => {
      const { binding, queue, connection, readBack, metrics, producer } = setup({});
      connection.emit('-node');
      connection.zadd.mockResolvedValue(1);
      connection.sfnBridgeWriteRecord.mockResolvedValue(1);
      queue.add.mockResolvedValue({});
      readBack.mockImplementation(() => new Promise((resolve) => setTimeout(() => resolve([JOB, 'written']), 2_000)));
      const result = producer.enqueue(binding, task());
      await jest.advanceTimersByTimeAsync(2_000);
      await expect(result).resolves.toMatchObject({ enqueued: true });
      const values = (await metrics.dispatchSeconds.get()).values;
      const sum = values.find((v) => v.metricName === 'sfn_bridge_dispatch_seconds_sum')?.value;
      expect({ sum, underReadBack: (sum ?? Infinity) < 1 }).toEqual({ sum, underReadBack: true });
    });

    it('fails the task once with Bridge.EnqueueFailed when the write is never found within ENQUEUE_RETRY_FOR_MS, and closes any record a try left', async () => {
      const { binding, queue, connection, readBack, callbacks, cancel, producer, recordKey } = setup({ ENQUEUE_RETRY_FOR_MS: '2000' });
      connection.emit('node error', new Error('connect ECONNREFUSED'));
      connection.zadd.mockResolvedValue(1);
      connection.sfnBridgeWriteRecord.mockResolvedValue(1);
      queue.add.mockResolvedValue({});
      readBack.mockResolvedValue([JOB, 'missing']);
      const result = producer.enqueue(binding, task());
      await jest.advanceTimersByTimeAsync(2_000 + MIN_TRY_MS);
      await expect(result).resolves.toEqual({
        enqueued: false,
        reason: 'Redis write: it was acknowledged but its job and record are not in Redis',
      });
      expect(callbacks.failure.mock.calls.map((c) => c[1])).toEqual(['Bridge.EnqueueFailed']);
      // Every try was acknowledged: if any did land after all, its record must not be relayed. It is
      // closed before the failure is sent, and again once a try's record is acknowledged late.
      expect(cancel.mock.calls).toEqual([
        [recordKey, 'Bridge.EnqueueFailed', tombstoneMs(2_000)],
        [recordKey, 'Bridge.EnqueueFailed', tombstoneMs(2_000)],
      ]);
      expect(cancel.mock.invocationCallOrder[0]).toBeLessThan(callbacks.failure.mock.invocationCallOrder[0]);
    });

    it('reconnects the connection when a reply proves misaligned (read-back or reservation script), and writes again', async () => {
      const { binding, queue, connection, readBack, producer } = setup({});
      const wrongShape = Object.assign(new Error('sfnBridgeTaken answered string "OK" where two integers were expected'), {
        name: 'UnexpectedReplyError',
      });
      connection.zadd.mockResolvedValue(1);
      connection.sfnBridgeWriteRecord.mockResolvedValue(1);
      queue.add.mockResolvedValue({});
      // Per retry: what the earlier try left (missing), then the acknowledged write: a reply meant for
      // another command, then (written again) found.
      readBack
        .mockResolvedValueOnce([JOB, 'missing'])
        .mockResolvedValueOnce('OK')
        .mockResolvedValueOnce([JOB, 'missing'])
        .mockResolvedValue([JOB, 'written']);
      const onWrite = jest.fn().mockRejectedValueOnce(wrongShape).mockResolvedValue([1, 1]);
      const result = producer.enqueue(binding, { ...task(), onWrite });
      await jest.advanceTimersByTimeAsync(10_000);
      await expect(result).resolves.toMatchObject({ enqueued: true });
      // The wrong-shaped reservation reply reconnects at once; the read-back's wrong reply, within
      // the next second, finds that reconnect already done.
      expect(connection.disconnect.mock.calls).toEqual([[true]]);
      expect(queue.add.mock.calls.length).toBe(3);
    });
  });

  describe('a retry, when an earlier try may have landed after all (its answer late or lost)', () => {
    /** The first try's write lands, but the add's answer never comes: the try times out. */
    function firstAnswerLost(s: ReturnType<typeof setup>) {
      s.queue.add.mockReturnValueOnce(new Promise(() => undefined)).mockResolvedValue({});
      s.connection.sfnBridgeWriteRecord.mockResolvedValue(1);
      s.connection.zadd.mockResolvedValue(1);
    }

    it.each(['written', 'closed'])(
      'reads back what the earlier try left first and, found %s, counts the task enqueued without adding its job again',
      async (verdict) => {
        const s = setup({});
        firstAnswerLost(s);
        s.readBack.mockResolvedValue([JOB, verdict]);
        const result = s.producer.enqueue(s.binding, task());
        await jest.advanceTimersByTimeAsync(ADD_TIMEOUT_MS + 1_000);
        await expect(result).resolves.toEqual({ enqueued: true, jobId: JOB });
        expect({
          ...s.issued(),
          readBacks: s.readBack.mock.calls,
          failures: s.callbacks.failure.mock.calls.length,
          cancels: s.cancel.mock.calls.length,
          memory: s.schedule.memoryCounts(),
        }).toEqual({
          add: 1,
          record: 1,
          zadd: 1,
          readBacks: [[s.recordKey, s.schedule.keys.schedule, JOB]],
          failures: 0,
          cancels: 0,
          memory: { known: 1, pending: 0 },
        });
      },
    );

    it('found unscheduled (its ZADD did not land), writes only the schedule entry, with the first beat', async () => {
      const s = setup({});
      firstAnswerLost(s);
      s.readBack.mockResolvedValue([JOB, 'unscheduled']);
      const receivedAt = Date.now();
      const result = s.producer.enqueue(s.binding, { ...task(), receivedAt });
      await jest.advanceTimersByTimeAsync(ADD_TIMEOUT_MS + 1_000);
      await expect(result).resolves.toEqual({ enqueued: true, jobId: JOB });
      const intervalMs = s.binding.heartbeatSeconds * 1000;
      const entry = [s.schedule.keys.schedule, 'NX', receivedAt + intervalMs - leadMs(intervalMs), JOB];
      expect({ ...s.issued(), zadds: s.connection.zadd.mock.calls, readBacks: s.readBack.mock.calls.length }).toEqual({
        add: 1,
        record: 1,
        zadd: 2,
        zadds: [entry, entry],
        readBacks: 1,
      });
    });

    it('found missing, writes the task again (same job id) and counts it once that write is confirmed', async () => {
      const s = setup({});
      firstAnswerLost(s);
      s.readBack.mockResolvedValueOnce([JOB, 'missing']).mockResolvedValue([JOB, 'written']);
      const result = s.producer.enqueue(s.binding, task());
      await jest.advanceTimersByTimeAsync(ADD_TIMEOUT_MS + 1_000);
      await expect(result).resolves.toEqual({ enqueued: true, jobId: JOB });
      expect({ ...s.issued(), readBacks: s.readBack.mock.calls.length, jobIds: s.queue.add.mock.calls.map((c) => c[2].jobId) }).toEqual({
        add: 2,
        record: 2,
        zadd: 2,
        readBacks: 2,
        jobIds: [JOB, JOB],
      });
    });
  });

  describe('before failing a task whose write was never confirmed, its record is closed first (the cancel script)', () => {
    it.each(['closed', 'relaying'])(
      'sends no failure when the record answers %s (a try landed and its relay sends the one result), and counts it enqueued',
      async (verdict) => {
        const { binding, queue, connection, readBack, callbacks, cancel, schedule, metrics, producer, recordKey } = setup({
          ENQUEUE_RETRY_FOR_MS: '1000',
        });
        queue.add.mockReturnValue(new Promise(() => undefined));
        connection.sfnBridgeWriteRecord.mockResolvedValue(1);
        connection.zadd.mockResolvedValue(1);
        readBack.mockRejectedValue(new Error('Connection is closed.'));
        cancel.mockResolvedValue(verdict);
        const result = producer.enqueue(binding, task());
        await jest.advanceTimersByTimeAsync(1_000 + MIN_TRY_MS);
        await expect(result).resolves.toEqual({ enqueued: true, jobId: JOB });
        // Nothing more follows: no late-write cancel, no failure.
        await jest.advanceTimersByTimeAsync(10_000);
        const total = async (counter: typeof metrics.enqueueFailures) => (await counter.get()).values.reduce((n, v) => n + v.value, 0);
        expect({
          failures: callbacks.failure.mock.calls.length,
          cancels: cancel.mock.calls,
          enqueueFailures: await total(metrics.enqueueFailures),
          enqueued: await total(metrics.tasksEnqueued),
          memory: schedule.memoryCounts(),
        }).toEqual({
          failures: 0,
          cancels: [[recordKey, 'Bridge.EnqueueFailed', tombstoneMs(1_000)]],
          enqueueFailures: 0,
          enqueued: 1,
          memory: { known: 1, pending: 0 },
        });
      },
    );

    it.each([
      ['answers cancelled (no relay has it)', (cancel: jest.Mock) => cancel.mockResolvedValueOnce('cancelled')],
      ['throws (Redis still down)', (cancel: jest.Mock) => cancel.mockRejectedValueOnce(new Error('Connection is closed.'))],
    ])('sends the failure as before when the cancel %s; a try landing later is still cancelled', async (_, answer) => {
      const { binding, queue, connection, callbacks, cancel, producer, recordKey } = setup({ ENQUEUE_RETRY_FOR_MS: '1000' });
      const late = <T>(value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), 6_000));
      queue.add.mockImplementation(() => late({}));
      connection.sfnBridgeWriteRecord.mockImplementation(() => late(1));
      connection.zadd.mockImplementation(() => late(1));
      answer(cancel);
      cancel.mockResolvedValue('closed');
      const result = producer.enqueue(binding, task());
      await jest.advanceTimersByTimeAsync(1_000 + MIN_TRY_MS);
      await expect(result).resolves.toMatchObject({ enqueued: false });
      const before = { failed: callbacks.failure.mock.calls.map((c) => c[1]), cancels: cancel.mock.calls.length };
      const cancelFirst = cancel.mock.invocationCallOrder[0] < callbacks.failure.mock.invocationCallOrder[0];
      await jest.advanceTimersByTimeAsync(6_000);
      expect({ before, cancelFirst, cancels: cancel.mock.calls, failures: callbacks.failure.mock.calls.length }).toEqual({
        before: { failed: ['Bridge.EnqueueFailed'], cancels: 1 },
        cancelFirst: true,
        cancels: [
          [recordKey, 'Bridge.EnqueueFailed', tombstoneMs(1_000)],
          [recordKey, 'Bridge.EnqueueFailed', tombstoneMs(1_000)],
        ],
        failures: 1,
      });
    });
  });
});
