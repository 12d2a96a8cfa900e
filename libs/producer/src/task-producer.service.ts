import { Inject, Injectable, Logger } from '@nestjs/common';
import { BindingConfig, BRIDGE_CONFIG, BridgeConfig } from '@bridge/config';
import { HeartbeatSchedule, leadMs, ZaddClient } from '@bridge/heartbeat';
import { BridgeMetrics } from '@bridge/metrics';
import {
  holdWritesThisTurn,
  jobIdForToken,
  PRODUCER_CONNECTION,
  PRODUCER_QUEUES,
  RecordClient,
  TaskRecord,
  TaskRecords,
  tombstoneMs,
} from '@bridge/queue';
import { fullJitterDelay, sleep, withTimeout } from '@bridge/common';
import { TaskCallbacks, tokenRef } from '@bridge/sfn';
import { activeTraceContext, traceSend } from '@bridge/tracing';
import { Queue } from 'bullmq';
import { taskJobOptions } from './task-job';
import { parseTaskInput } from './task-input';
import { CheckableConnection, WriteCheck } from './write-check';

/** Per-try bound on one task write; the producer's connection fails fast while Redis is down. */
export const ADD_TIMEOUT_MS = 5_000;
/** Even a try that starts at the deadline gets this long (a write to a healthy Redis takes ~1 ms). */
export const MIN_TRY_MS = 250;

export interface TakenTask {
  taskToken: string;
  input?: string;
  /** ms since epoch when GetActivityTask returned it. */
  receivedAt: number;
  /** Issued with each try of the write, in the same tick (same round trip): the poller's reservation bookkeeping. */
  onWrite?: () => Promise<unknown>;
}

/** What one task write adds: the consumer's job (name, data) and the bridge's record of the task. */
interface TaskJob {
  name: string;
  input: unknown;
  record: TaskRecord;
}

export type EnqueueResult = { enqueued: true; jobId: string } | { enqueued: false; reason: string };

/**
 * Writes each taken task to Redis. The write is one round trip on the producer's own connection
 * (nothing else queues on it), issued in the same tick, before any other per-task work: the task's
 * job on its binding queue (BullMQ `Queue.add`, data = the input), its task record (the token, for
 * heartbeats and the relay) and its heartbeat-schedule entry, in that order, so a record in Redis
 * means its job is there. Until it lands the token is kept alive from memory by the heartbeat
 * service (HeartbeatSchedule.take). A token, once taken, is never dropped: the write is retried
 * (same job id, so a retry adds nothing twice) for `ENQUEUE_RETRY_FOR_MS`, and if Redis still
 * refuses, the task is failed explicitly with `Bridge.EnqueueFailed` so the state machine's
 * Retry/Catch can act. A write acknowledged while the connection was in trouble is read back once
 * before it counts (WriteCheck: a Cluster client can acknowledge a write that never reached
 * Redis), and written again if it is not there.
 */
@Injectable()
export class TaskProducer {
  private readonly logger = new Logger(TaskProducer.name);
  /** Shutdown: no write is retried past this (ms since epoch); the task is failed explicitly instead. */
  private retryUntil = Infinity;
  private readonly check: WriteCheck;
  private readonly records: TaskRecords;

  constructor(
    @Inject(PRODUCER_QUEUES) private readonly queues: Map<string, Queue>,
    @Inject(PRODUCER_CONNECTION) private readonly connection: ZaddClient & CheckableConnection & RecordClient,
    @Inject(BRIDGE_CONFIG) private readonly config: BridgeConfig,
    private readonly callbacks: TaskCallbacks,
    private readonly metrics: BridgeMetrics,
    private readonly heartbeats: HeartbeatSchedule,
  ) {
    this.records = new TaskRecords(connection, config.redis.prefix, tombstoneMs(config.enqueue.retryForMs));
    this.check = new WriteCheck(connection, this.records.keys, heartbeats.keys.schedule);
  }

  async enqueue(binding: BindingConfig, task: TakenTask): Promise<EnqueueResult> {
    const jobId = jobIdForToken(task.taskToken);
    const input = parseTaskInput(task.input);
    const intervalMs = binding.heartbeatSeconds * 1000;
    // Step Functions' heartbeat clock started at hand-out: the first is due as every later one is.
    const firstBeat = task.receivedAt + intervalMs - leadMs(intervalMs);
    this.heartbeats.take(jobId, { taskToken: task.taskToken, binding: binding.name, intervalMs, nextDueAt: firstBeat });
    return traceSend(binding, jobId, () => {
      const record: TaskRecord = {
        taskToken: task.taskToken,
        binding: binding.name,
        queue: binding.queue,
        receivedAt: task.receivedAt,
        trace: activeTraceContext(),
      };
      const job: TaskJob = { name: binding.jobName, input, record };
      return this.write(binding, task, jobId, job, firstBeat, Date.now() + this.config.enqueue.retryForMs);
    });
  }

  /**
   * Shutdown: writes still failing at `at` stop retrying and fail their task with
   * `Bridge.EnqueueFailed`, so a write stuck in a Redis outage or failover ends as the task's one
   * result before the process exits instead of dying with it (ENQUEUE_RETRY_FOR_MS may be longer
   * than the drain).
   */
  cutRetries(at: number): void {
    this.retryUntil = Math.min(this.retryUntil, at);
  }

  private async write(
    binding: BindingConfig,
    task: TakenTask,
    jobId: string,
    job: TaskJob,
    firstBeat: number,
    deadline: number,
  ): Promise<EnqueueResult> {
    let lastError = '';
    const tries: Promise<unknown>[] = [];
    for (let attempt = 0; ; attempt++) {
      try {
        // Fail fast while the connection is down: a Cluster connection queues commands offline
        // (libs/queue redis-connection.ts says why), and a write queued now would land unbounded later.
        const status = this.connection.status;
        if (status !== undefined && status !== 'ready') throw new Error(`Redis connection not ready (${status})`);
        // A try again: an earlier one may have landed after all (its answer late or lost), and its
        // job may be done and removed by now; adding it again would run the task twice.
        if (attempt > 0 && (await this.landedEarlier(binding, task, jobId, firstBeat, deadline))) {
          return this.enqueued(binding, task, jobId, attempt, Date.now());
        }
        // All go out in this turn on one connection, in one socket write: one round trip, applied
        // in order. BullMQ's add awaits a few promise jobs before it writes; the record, the
        // schedule entry and the reservation bookkeeping are issued at the end of the turn, after
        // it, in that order: a record in Redis means its job is there, a schedule entry its
        // record, and a task is in the outstanding set only with its schedule entry (the
        // reservation sweep counts "outstanding but not scheduled" as closed).
        const added = this.queues.get(binding.queue)!.add(job.name, job.input, taskJobOptions(binding, jobId));
        const rest = new Promise<{ recorded: Promise<unknown>; written: Promise<unknown> }>((resolve) =>
          holdWritesThisTurn(this.connection, () => {
            // The record lands only with its job (a Cluster client may reorder the two): else this try failed.
            const recorded = this.records.write(jobId, job.record).then((written) => {
              if (!written) throw new Error('its job was not in Redis when its record was written');
            });
            const entry = this.heartbeats.writeEntry(this.connection, jobId, firstBeat);
            resolve({ recorded, written: Promise.all([recorded, entry, task.onWrite?.()]) });
          }),
        );
        const recorded = rest.then((r) => r.recorded);
        // Read by the late-write check only after every try failed; a rejection is handled here.
        recorded.catch(() => undefined);
        tries.push(recorded);
        // A try never outlives the retry budget (ENQUEUE_RETRY_FOR_MS may be shorter than one try).
        const tryMs = Math.max(MIN_TRY_MS, Math.min(ADD_TIMEOUT_MS, Math.min(deadline, this.retryUntil) - Date.now()));
        await withTimeout(Promise.all([added, rest.then((r) => r.written)]), tryMs, 'Redis write');
        // Dispatch ends when Redis acknowledged the write; a read-back only confirms it.
        const acknowledgedAt = Date.now();
        const check = await this.check.confirm(jobId, tryMs);
        if (check.ok) return this.enqueued(binding, task, jobId, attempt, acknowledgedAt);
        lastError = `Redis write: ${check.reason}`;
        this.logger.warn(`Task ${tokenRef(task.taskToken)}: ${check.reason}; writing it again`);
      } catch (err) {
        lastError = (err as Error).message;
        this.check.trouble.note();
        // A reply of the wrong shape (the poller's reservation script) proves the same misalignment.
        if ((err as Error).name === 'UnexpectedReplyError') this.check.realign();
        if (attempt === 0) {
          this.logger.warn(`Enqueue of task ${tokenRef(task.taskToken)} failed (${lastError}); retrying`);
        }
      }
      // The budget is used in full: a fast-failing write (connection down) retries until the
      // deadline, with one last try at it.
      const left = Math.min(deadline, this.retryUntil) - Date.now();
      if (left <= 0) break;
      await sleep(Math.min(fullJitterDelay(attempt, { baseMs: 100, capMs: 2_000 }), left));
    }
    if (await this.landedAfterAll(jobId, task, lastError)) return this.enqueued(binding, task, jobId, 0, Date.now());
    await this.failUnenqueued(binding, task, lastError);
    // A timed-out try may still land after the task was failed: its record is then closed at
    // once, so nothing is relayed for it (the failure above was the task's one result).
    void Promise.any(tries).then(
      () => this.cancelLateWrite(jobId, task),
      () => undefined,
    );
    return { enqueued: false, reason: lastError };
  }

  /** Whether an earlier try landed (its schedule entry written now if that alone is missing). */
  private async landedEarlier(
    binding: BindingConfig,
    task: TakenTask,
    jobId: string,
    firstBeat: number,
    deadline: number,
  ): Promise<boolean> {
    const tryMs = Math.max(MIN_TRY_MS, Math.min(ADD_TIMEOUT_MS, Math.min(deadline, this.retryUntil) - Date.now()));
    const earlier = await this.check.earlierTry(jobId, tryMs);
    if (earlier === 'unscheduled') await withTimeout(this.heartbeats.writeEntry(this.connection, jobId, firstBeat), tryMs, 'Redis write');
    const landed = earlier === 'written' || earlier === 'closed' || earlier === 'unscheduled';
    if (landed)
      this.logger.log(`Task ${tokenRef(task.taskToken)} (${binding.name}): an earlier try of its write landed; not written again`);
    return landed;
  }

  private enqueued(binding: BindingConfig, task: TakenTask, jobId: string, attempt: number, acknowledgedAt: number): EnqueueResult {
    this.heartbeats.written(jobId);
    this.metrics.dispatchSeconds.observe({ binding: binding.name }, (acknowledgedAt - task.receivedAt) / 1000);
    this.metrics.tasksEnqueued.inc({ binding: binding.name });
    if (attempt > 0) this.logger.log(`Enqueued task ${tokenRef(task.taskToken)} after ${attempt} retries`);
    if (this.config.log.payloads) {
      this.logger.debug(
        `Task ${tokenRef(task.taskToken)} (${binding.name}) enqueued as job ${jobId.slice(0, 12)} with input ${task.input ?? ''}`,
      );
    }
    return { enqueued: true, jobId };
  }

  private async cancelLateWrite(jobId: string, task: TakenTask): Promise<void> {
    try {
      const cancelled = await this.records.cancel(jobId, 'Bridge.EnqueueFailed');
      this.logger.warn(`Task ${tokenRef(task.taskToken)}: its write landed after the task was failed; its record is closed (${cancelled})`);
    } catch (err) {
      this.logger.error(
        `Task ${tokenRef(task.taskToken)}: its write landed after the task was failed and could not be cancelled: ${(err as Error).message}`,
      );
    }
  }

  /**
   * Before failing a task whose write was never confirmed: a try may have landed without the
   * producer knowing (its answer lost). Its record is closed first (a tombstone if there is none
   * yet, so a try landing later finds it closed), keeping the task from two results; a relay that
   * closed or holds it already sends the task's one result instead (true: no failure is sent).
   */
  private async landedAfterAll(jobId: string, task: TakenTask, reason: string): Promise<boolean> {
    const record = await withTimeout(this.records.cancel(jobId, 'Bridge.EnqueueFailed'), MIN_TRY_MS * 4, 'closing the record').catch(
      () => undefined,
    );
    if (record !== 'closed' && record !== 'relaying') return false;
    this.logger.warn(`Task ${tokenRef(task.taskToken)}: its write was not confirmed (${reason}) but had landed; its result is relayed`);
    return true;
  }

  private async failUnenqueued(binding: BindingConfig, task: TakenTask, reason: string): Promise<void> {
    this.heartbeats.forget(jobIdForToken(task.taskToken));
    this.metrics.enqueueFailures.inc({ binding: binding.name });
    const cause =
      `The bridge could not write the task to queue "${binding.queue}" within ${this.config.enqueue.retryForMs} ms: ${reason}`.slice(
        0,
        32_768,
      );
    const result = await this.callbacks.failure(task.taskToken, 'Bridge.EnqueueFailed', cause);
    if (result.ok) {
      this.logger.error(`Task ${tokenRef(task.taskToken)} failed with Bridge.EnqueueFailed: ${reason}`);
    } else {
      this.logger.error(
        `Task ${tokenRef(task.taskToken)} could be neither enqueued (${reason}) nor failed (${result.name}); Step Functions will time it out`,
      );
    }
  }
}
