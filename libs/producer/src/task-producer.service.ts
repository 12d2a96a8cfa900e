import { InjectFlowProducer } from '@nestjs/bullmq';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { BindingConfig, BRIDGE_CONFIG, BridgeConfig } from '@bridge/config';
import { HeartbeatSchedule, leadMs, ZaddClient } from '@bridge/heartbeat';
import { BridgeMetrics } from '@bridge/metrics';
import { holdWritesThisTurn, jobIdForToken, PRODUCER_CONNECTION, RelayJobData, TASK_FLOW_PRODUCER } from '@bridge/queue';
import { fullJitterDelay, sleep, withTimeout } from '@bridge/common';
import { TaskCallbacks, tokenRef } from '@bridge/sfn';
import { traceSend } from '@bridge/tracing';
import { FlowJob, FlowProducer } from 'bullmq';
import { buildTaskFlow } from './task-flow';
import { parseTaskInput } from './task-input';
import { CheckableConnection, WriteCheck } from './write-check';

/** Per-try bound on one flow write; the flow producer's connection fails fast while Redis is down. */
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

export type EnqueueResult = { enqueued: true; jobId: string } | { enqueued: false; reason: string };

/**
 * Writes each taken task to BullMQ. The write is one round trip on the producer's own connection
 * (nothing else queues on it): the task's heartbeat-schedule entry and its flow are issued in the
 * same tick, before any other per-task work. Until it lands the token is kept alive from memory
 * by the heartbeat service (HeartbeatSchedule.take). A token, once taken, is never dropped: the
 * write is retried (same job id, so a retry adds nothing twice) for `ENQUEUE_RETRY_FOR_MS`, and if
 * Redis still refuses, the task is failed explicitly with `Bridge.EnqueueFailed` so the state
 * machine's Retry/Catch can act. A write acknowledged while the connection was in trouble is read
 * back once before it counts (WriteCheck: a Cluster client can acknowledge a write that never
 * reached Redis), and written again if it is not there.
 */
@Injectable()
export class TaskProducer {
  private readonly logger = new Logger(TaskProducer.name);
  /** Shutdown: no write is retried past this (ms since epoch); the task is failed explicitly instead. */
  private retryUntil = Infinity;
  private readonly check: WriteCheck;

  constructor(
    @InjectFlowProducer(TASK_FLOW_PRODUCER) private readonly flow: FlowProducer,
    @Inject(PRODUCER_CONNECTION) private readonly connection: ZaddClient & CheckableConnection,
    @Inject(BRIDGE_CONFIG) private readonly config: BridgeConfig,
    private readonly callbacks: TaskCallbacks,
    private readonly metrics: BridgeMetrics,
    private readonly heartbeats: HeartbeatSchedule,
  ) {
    this.check = new WriteCheck(connection, config.redis.prefix, heartbeats.keys.schedule);
  }

  async enqueue(binding: BindingConfig, task: TakenTask): Promise<EnqueueResult> {
    const jobId = jobIdForToken(task.taskToken);
    const relayData: RelayJobData = {
      taskToken: task.taskToken,
      binding: binding.name,
      queue: binding.queue,
      receivedAt: task.receivedAt,
    };
    const flow = buildTaskFlow(this.config, binding, jobId, relayData, parseTaskInput(task.input));
    const intervalMs = binding.heartbeatSeconds * 1000;
    // Step Functions' heartbeat clock started at hand-out: the first is due as every later one is.
    const firstBeat = task.receivedAt + intervalMs - leadMs(intervalMs);
    this.heartbeats.take(jobId, { taskToken: task.taskToken, binding: binding.name, intervalMs, nextDueAt: firstBeat });
    return traceSend(binding, jobId, () => this.write(binding, task, jobId, flow, firstBeat, Date.now() + this.config.enqueue.retryForMs));
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
    flow: FlowJob,
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
        // All three go out in this turn on one connection, in one socket write: one round trip. The
        // schedule entry is first in the pipe, so a task is never in a queue without one.
        holdWritesThisTurn(this.connection);
        const entry = this.heartbeats.writeEntry(this.connection, jobId, firstBeat);
        const added = this.flow.add(flow);
        const alsoWritten = task.onWrite?.();
        tries.push(added);
        // A try never outlives the retry budget (ENQUEUE_RETRY_FOR_MS may be shorter than one try).
        const tryMs = Math.max(MIN_TRY_MS, Math.min(ADD_TIMEOUT_MS, Math.min(deadline, this.retryUntil) - Date.now()));
        await withTimeout(Promise.all([entry, added, alsoWritten]), tryMs, 'Redis write');
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
    await this.failUnenqueued(binding, task, lastError);
    // A timed-out try may still land after the task was failed: its relay job must then send
    // nothing (the failure above was the task's one result).
    void Promise.any(tries).then(
      (node) => this.cancelLateWrite(node, task),
      () => undefined,
    );
    return { enqueued: false, reason: lastError };
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

  private async cancelLateWrite(node: unknown, task: TakenTask): Promise<void> {
    const job = (node as { job?: { data: RelayJobData; updateData(data: RelayJobData): Promise<void> } } | undefined)?.job;
    if (!job) return;
    try {
      await job.updateData({ ...job.data, cancelled: 'Bridge.EnqueueFailed' });
      this.logger.warn(`Task ${tokenRef(task.taskToken)}: its write landed after the task was failed; its relay job is cancelled`);
    } catch (err) {
      this.logger.error(
        `Task ${tokenRef(task.taskToken)}: its write landed after the task was failed and could not be cancelled: ${(err as Error).message}`,
      );
    }
  }

  private async failUnenqueued(binding: BindingConfig, task: TakenTask, reason: string): Promise<void> {
    this.metrics.enqueueFailures.inc({ binding: binding.name });
    this.heartbeats.forget(jobIdForToken(task.taskToken));
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
