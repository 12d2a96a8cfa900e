import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { BRIDGE_CONFIG, BridgeConfig } from '@bridge/config';
import { BridgeMetrics } from '@bridge/metrics';
import { RecordClient, REDIS_CONNECTION, RedisStatus, TaskRecords, TaskState, tombstoneMs } from '@bridge/queue';
import { IncidentLog, sleep } from '@bridge/common';
import { SfnErrorKind, TaskCallbacks, tokenRef } from '@bridge/sfn';
import { taskHeartbeat } from '@bridge/tracing';
import { HeartbeatSchedule } from './heartbeat-schedule.service';
import { CLAIM_STUCK_MS, idleTickMs, leadMs, TICK_MS } from './heartbeat-timing';
import { LocalHeartbeat } from './local-heartbeats';
import { StrandedTasks } from './stranded-tasks';
import { TaskCanceller } from './task-canceller.service';

/** How long shutdown lets heartbeats already sent finish (their reschedule). */
const SHUTDOWN_WAIT_MS = 1_000;
/** SendTaskHeartbeat calls in flight at once from memory, and from the shared schedule. */
const MAX_FALLBACK_IN_FLIGHT = 256;
const MAX_SHARED_IN_FLIGHT = 256;
/** Share of the heartbeat budget the bindings' worst case may use (the rest absorbs retries). */
const BUDGET_HEADROOM = 0.6;
/** A shared-schedule heartbeat refused once is sent again after 50-100 ms, within its claim hold. */
const QUICK_RETRY_MS = 50;
/** How often the in-memory copy of known tokens drops entries nobody here touched lately. */
const PRUNE_EVERY_MS = 10_000;
/**
 * A job finished (or gone) this long with its task still open and nobody holding its relay was
 * missed by the event stream: the heartbeat hands it to the relay. Events are relayed in
 * milliseconds; this is well past a relay lease and any clock skew between workers and Redis.
 */
export const STRANDED_AFTER_MS = 15_000;

/**
 * Heartbeats every outstanding token (its job waiting or active, or its relay pending) at the
 * binding's `heartbeatSeconds`: Step Functions' heartbeat clock runs from the moment the token was
 * handed out, queue time included. The schedule lives in Redis and due heartbeats are claimed
 * atomically within a global token bucket (HEARTBEAT_RATE_PER_SECOND), so N replicas send one
 * heartbeat per token per interval, not N. A heartbeat answered TaskTimedOut / TaskDoesNotExist /
 * InvalidToken means the execution is gone: the task is cancelled (TaskCanceller).
 *
 * The one owner of a taken token's liveness: a token this replica took and has not yet written is
 * heartbeated from memory (only this replica knows it), and so is every token it knows while the
 * shared schedule cannot be used (Redis unreachable, or up but refusing writes: READONLY, OOM).
 * A token whose relay is in progress is heartbeated too (a heartbeat racing the relay is benign),
 * so a replica dying mid-relay leaves no token silent beyond interval + lease. Visiting every open
 * task each interval, the pass is also the relay's sweep: a task whose job finished long ago with
 * nobody relaying it (its event was never read) is handed to the relay (StrandedTasks).
 */
@Injectable()
export class HeartbeatService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(HeartbeatService.name);
  private readonly intervals: Map<string, number>;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  private redisWasDown = false;
  private sharedPassInFlight = false;
  /** The last shared pass failed with Redis connected (READONLY, OOM, a Cluster failing over). */
  private sharedFailing = false;
  /** When the running shared pass began claiming from Redis (0: not claiming). */
  private claimStartedAt = 0;
  private fallbackInFlight = 0;
  /** Shared-schedule heartbeats in flight (they overlap later passes; one slow call holds up no other). */
  private readonly sharedInFlight = new Map<string, Promise<void>>();
  private prunedAt = Date.now();
  /** The last pass sent nothing: the next tick may wait longer. */
  private idle = false;
  private readonly idleTickMs: number;
  private readonly passFailures = new IncidentLog(this.logger, 'The heartbeat pass');
  private readonly callFailures = new IncidentLog(this.logger, 'SendTaskHeartbeat');
  private readonly records: TaskRecords;

  constructor(
    @Inject(BRIDGE_CONFIG) private readonly config: BridgeConfig,
    private readonly redis: RedisStatus,
    @Inject(REDIS_CONNECTION) connection: RecordClient,
    private readonly schedule: HeartbeatSchedule,
    private readonly canceller: TaskCanceller,
    private readonly callbacks: TaskCallbacks,
    private readonly metrics: BridgeMetrics,
    private readonly stranded: StrandedTasks,
  ) {
    this.intervals = new Map(config.bindings.map((b) => [b.name, b.heartbeatSeconds * 1000]));
    this.idleTickMs = idleTickMs([...this.intervals.values()]);
    this.records = new TaskRecords(connection, config.redis.prefix, tombstoneMs(config.enqueue.retryForMs));
  }

  onApplicationBootstrap(): void {
    this.warnIfBudgetTooSmall();
    this.scheduleTick();
  }

  /** Outstanding tokens (at most maxPending per binding) must fit the heartbeat budget. */
  private warnIfBudgetTooSmall(): void {
    const demand = this.config.bindings.reduce((sum, b) => sum + b.maxPending / b.heartbeatSeconds, 0);
    const budget = this.config.heartbeat.ratePerSecond;
    if (demand > budget * BUDGET_HEADROOM) {
      this.logger.warn(
        `The bindings can hold tokens needing up to ${Math.ceil(demand)} heartbeats/s, above ${BUDGET_HEADROOM * 100}% of ` +
          `HEARTBEAT_RATE_PER_SECOND=${budget}: lower maxPending, raise heartbeatSeconds or raise the budget`,
      );
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    // Heartbeats already sent are let finish (their reschedule), for at most one pass wait.
    const settled = new AbortController();
    void Promise.allSettled(this.sharedInFlight.values()).finally(() => settled.abort());
    await sleep(SHUTDOWN_WAIT_MS, settled.signal);
  }

  /**
   * One pass: heartbeat from memory what only memory can keep alive (taken, not yet written; or
   * everything known while the shared schedule is unusable), then claim what is due in Redis.
   */
  private async tick(): Promise<number> {
    const ready = this.redis.up;
    // A Cluster client stays 'ready' while the shard holding the schedule fails over (its commands
    // wait through it), and so does a client whose Redis is shutting down: a claim that failed, or
    // has waited longer than CLAIM_STUCK_MS, with the client connected means the shared schedule is
    // unusable too.
    const stuck = this.claimStartedAt > 0 && Date.now() - this.claimStartedAt > CLAIM_STUCK_MS;
    const why = !ready ? 'unreachable' : stuck ? 'not answering' : 'refusing writes';
    const fromMemory = this.memoryTick(!ready || this.sharedFailing || stuck, why);
    this.idle = false;
    if (!ready || this.sharedPassInFlight) return fromMemory;
    this.sharedPassInFlight = true;
    try {
      const claimed = await this.sharedPass();
      this.sharedFailing = false;
      // Idle: the shared schedule is empty and memory keeps nothing alive. While any token is
      // scheduled, every replica ticks fast: one whose peer dies must claim its tokens in time.
      this.idle = claimed === null && fromMemory === 0 && this.schedule.memoryCounts().pending === 0;
      return fromMemory + (claimed ?? 0);
    } catch (err) {
      if (this.redis.up) this.sharedFailing = true;
      throw err;
    } finally {
      this.sharedPassInFlight = false;
    }
  }

  /** Claims and sends what is due; null when the shared schedule is empty. */
  private async sharedPass(): Promise<number | null> {
    if (this.redisWasDown) {
      const reseeded = await this.schedule.reseed();
      this.redisWasDown = false;
      this.logger.log(`Redis is back: heartbeats coordinated through Redis again (${reseeded} known token(s) re-scheduled)`);
    }
    if (Date.now() - this.prunedAt > PRUNE_EVERY_MS) {
      this.schedule.pruneMemory();
      this.prunedAt = Date.now();
    }
    const rate = this.config.heartbeat.ratePerSecond;
    const max = Math.min(Math.max(1, Math.ceil((rate * TICK_MS) / 1000) * 2), MAX_SHARED_IN_FLIGHT - this.sharedInFlight.size);
    if (max <= 0) return 0;
    this.claimStartedAt = Date.now();
    let due: string[] | null;
    try {
      due = await this.schedule.claimDue(max, rate);
    } finally {
      this.claimStartedAt = 0;
    }
    if (due === null) return null;
    for (const jobId of due) {
      // Claimed again while its call is still out (it outlived the claim hold): that call reschedules it.
      if (this.sharedInFlight.has(jobId)) continue;
      const beat = this.beat(jobId)
        .catch((err: Error) => {
          if (this.redis.up) this.sharedFailing = true;
          this.passFailures.failure(err.message);
        })
        .finally(() => this.sharedInFlight.delete(jobId));
      this.sharedInFlight.set(jobId, beat);
    }
    return due.length;
  }

  /**
   * Heartbeats from memory. Always the tokens this replica took and has not yet written (no other
   * replica can see them); with `all`, every token it knows, because the shared schedule cannot be
   * used (Redis unreachable or refusing writes) while Step Functions' clocks keep running
   * (uncoordinated: a token known to two replicas gets two heartbeats while that lasts).
   */
  private memoryTick(all: boolean, why: string): number {
    if (all && !this.redisWasDown) {
      this.redisWasDown = true;
      const { known } = this.schedule.memoryCounts();
      this.logger.warn(`Redis ${why}: heartbeating the ${known} token(s) this replica knows from memory`);
    }
    const now = Date.now();
    const budget = Math.ceil((this.config.heartbeat.ratePerSecond * TICK_MS) / 1000);
    const due = this.schedule.dueFromMemory(now, Math.min(budget, MAX_FALLBACK_IN_FLIGHT - this.fallbackInFlight), all);
    for (const [jobId, entry] of due) {
      // Not due again while its call is in flight; calls overlap ticks instead of blocking them.
      this.schedule.touchInMemory(jobId, now + entry.intervalMs - leadMs(entry.intervalMs));
      this.fallbackInFlight++;
      void this.fallbackBeat(jobId, entry).finally(() => this.fallbackInFlight--);
    }
    return due.length;
  }

  private async fallbackBeat(jobId: string, entry: LocalHeartbeat): Promise<void> {
    const result = await this.callbacks.heartbeat(entry.taskToken);
    // An event only if this replica holds the task's span: no record (Redis may be down) to open one from.
    taskHeartbeat(jobId, result);
    this.logger.debug(`Heartbeat from memory for task ${tokenRef(entry.taskToken)} (${entry.binding}): ${result.ok ? 'ok' : result.name}`);
    if (result.ok) {
      this.metrics.heartbeats.inc({ binding: entry.binding, result: 'ok' });
    } else if (result.kind === SfnErrorKind.TaskGone) {
      // Closed or cancelled meanwhile; the shared schedule handles it once Redis is back.
      this.metrics.heartbeats.inc({ binding: entry.binding, result: 'expired' });
      this.schedule.forgetInMemory(jobId);
    } else {
      this.metrics.heartbeats.inc({ binding: entry.binding, result: 'error' });
      this.schedule.touchInMemory(jobId, Date.now());
    }
  }

  private scheduleTick(): void {
    if (this.stopped) return;
    this.timer = setTimeout(
      () => {
        const pass = this.tick()
          .then(() => this.passFailures.success())
          .catch((err: Error) => this.passFailures.failure(err.message));
        // A shared pass caught by a Redis outage waits for the reconnect (ioredis queues its
        // commands); the loop does not, so the next tick can fall back to memory meanwhile.
        const settled = new AbortController();
        void pass.finally(() => settled.abort());
        this.running = sleep(CLAIM_STUCK_MS, settled.signal).finally(() => this.scheduleTick());
      },
      this.idle ? this.idleTickMs : TICK_MS,
    );
  }

  private async beat(jobId: string): Promise<void> {
    const state = await this.records.read(jobId);
    if (state.state === 'missing') {
      // No record (its tombstone expired, or its write is still landing): dropped only if none
      // exists by now, atomically (drop-orphan.lua.ts says why).
      await this.schedule.dropOrphan(jobId, this.records.keys.record(jobId));
      return;
    }
    if (state.state === 'closed') {
      await this.schedule.remove(jobId, state.binding || undefined);
      return;
    }
    if (isStranded(state)) this.stranded.report({ queue: state.task.queue, jobId });
    const task = state.task;
    const { binding, taskToken } = task;
    const interval = this.intervals.get(binding) ?? this.config.heartbeat.defaultSeconds * 1000;
    this.schedule.remember(jobId, { taskToken, binding, intervalMs: interval, nextDueAt: Date.now() + interval });
    let result = await this.callbacks.heartbeat(taskToken);
    taskHeartbeat(jobId, result, interval, task);
    if (!result.ok && (result.kind === SfnErrorKind.Throttled || result.kind === SfnErrorKind.Transient)) {
      // Throttled, 5xx, reset: once more shortly, so one refused call does not cost the token a
      // tick (its silence bound is interval + lease); a second failure is due again at once.
      this.metrics.heartbeats.inc({ binding, result: 'error' });
      await sleep(QUICK_RETRY_MS + Math.random() * QUICK_RETRY_MS);
      result = await this.callbacks.heartbeat(taskToken);
      taskHeartbeat(jobId, result, interval, task);
    }
    if (result.ok) {
      this.callFailures.success();
      this.metrics.heartbeats.inc({ binding, result: 'ok' });
      await this.schedule.reschedule(jobId, Date.now() + interval - leadMs(interval));
      return;
    }
    if (result.kind === SfnErrorKind.TaskGone) {
      const cancelled = await this.canceller.cancel(jobId, task, result.name);
      // Closed by the relay between our read and the heartbeat (or being relayed now): not a cancellation.
      this.metrics.heartbeats.inc({ binding, result: cancelled ? 'expired' : 'closed' });
      return;
    }
    this.metrics.heartbeats.inc({ binding, result: 'error' });
    this.callFailures.failure(`${result.name} for task ${tokenRef(taskToken)} (${binding}); retrying`);
    // Due again at once: the next tick of any replica sends it (the claim's rate bucket paces it).
    await this.schedule.reschedule(jobId, Date.now());
  }
}

/**
 * Open, its job finished (or found gone) a while ago, and nobody holding its relay: its event was
 * missed. A job removed on completion is gone at once, so "gone" counts from the first heartbeat
 * that found it so (READ_TASK_SCRIPT notes it), never from when the task was taken.
 */
function isStranded(state: Extract<TaskState, { state: 'open' }>): boolean {
  if (state.leaseUntil > state.redisNow) return false;
  const since = state.jobFinishedOn ?? state.jobGoneSince;
  return since !== undefined && state.redisNow - since > STRANDED_AFTER_MS;
}
