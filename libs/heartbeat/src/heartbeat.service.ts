import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { BRIDGE_CONFIG, BridgeConfig } from '@bridge/config';
import { BridgeMetrics } from '@bridge/metrics';
import { BridgeQueue, REDIS_CONNECTION, RelayJobData } from '@bridge/queue';
import { BurstLog, delay, SfnErrorKind, TaskCallbacks, tokenRef } from '@bridge/sfn';
import { Job, Queue } from 'bullmq';
import IORedis from 'ioredis';
import { HeartbeatSchedule } from './heartbeat-schedule.service';
import { LocalHeartbeat } from './local-heartbeats';
import { TaskCanceller } from './task-canceller.service';

const TICK_MS = 250;
/** How long the loop waits for one pass before ticking again. */
const PASS_WAIT_MS = 1_000;
/** SendTaskHeartbeat calls in flight at once from memory (Redis down). */
const MAX_FALLBACK_IN_FLIGHT = 256;
/** Share of the heartbeat budget the bindings' worst case may use (the rest absorbs retries). */
const BUDGET_HEADROOM = 0.6;
/** Retry soon (half an interval, at most this) after a throttled or failed heartbeat. */
const RETRY_AFTER_ERROR_MS = 1_000;
/** Re-check soon when the relay job is being processed (it usually completes in milliseconds). */
const RELAYING_RECHECK_MS = 1_000;
/** A relay normally takes milliseconds; one active for longer than this no longer blocks heartbeats. */
const RELAYING_GRACE_MS = 3_000;
/** How often the in-memory copy of known tokens drops entries nobody here touched lately. */
const PRUNE_EVERY_MS = 10_000;

export type CancellableRelayData = RelayJobData & { cancelled?: string };

/**
 * Heartbeats every outstanding token (its job waiting or active, or its relay pending) at the
 * binding's `heartbeatSeconds`: Step Functions' heartbeat clock runs from the moment the token was
 * handed out, queue time included. The schedule lives in Redis and due heartbeats are claimed
 * atomically within a global token bucket (HEARTBEAT_RATE_PER_SECOND), so N replicas send one
 * heartbeat per token per interval, not N. A heartbeat answered TaskTimedOut / TaskDoesNotExist /
 * InvalidToken means the execution is gone: the task is cancelled (TaskCanceller).
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
  /** The last shared pass failed with Redis connected (a Cluster failing over, READONLY). */
  private sharedFailing = false;
  private sharedPassStartedAt = 0;
  private fallbackInFlight = 0;
  private prunedAt = Date.now();
  private readonly passFailures = new BurstLog(this.logger, 'The heartbeat pass');
  private readonly callFailures = new BurstLog(this.logger, 'SendTaskHeartbeat');

  constructor(
    @Inject(BRIDGE_CONFIG) private readonly config: BridgeConfig,
    @Inject(REDIS_CONNECTION) private readonly redis: IORedis,
    @InjectQueue(BridgeQueue.Relay) private readonly relayQueue: Queue<CancellableRelayData>,
    private readonly schedule: HeartbeatSchedule,
    private readonly canceller: TaskCanceller,
    private readonly callbacks: TaskCallbacks,
    private readonly metrics: BridgeMetrics,
  ) {
    this.intervals = new Map(config.bindings.map((b) => [b.name, b.heartbeatSeconds * 1000]));
  }

  onApplicationBootstrap(): void {
    this.warnIfBudgetTooSmall();
    this.scheduleTick();
  }

  /** Outstanding tokens (at most maxPending per binding) must fit the heartbeat budget. */
  private warnIfBudgetTooSmall(): void {
    const demand = this.config.bindings.reduce((sum, b) => sum + (b.maxPending + b.pollers) / b.heartbeatSeconds, 0);
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
  }

  /** One pass: claim what is due (within budget) and heartbeat it; from memory while Redis is down. */
  private async tick(): Promise<number> {
    // A Cluster client stays 'ready' while the shard holding the schedule fails over (its
    // commands wait through it): a shared pass that failed, or has waited longer than a pass may,
    // with the client connected counts as Redis unusable too.
    const stuck = this.sharedPassInFlight && Date.now() - this.sharedPassStartedAt > PASS_WAIT_MS;
    if (this.redis.status !== 'ready' || this.sharedFailing || stuck) {
      const fromMemory = this.fallbackTick();
      if (this.redis.status === 'ready' && !this.sharedPassInFlight) await this.tryShared();
      return fromMemory;
    }
    if (this.sharedPassInFlight) return 0;
    return this.tryShared();
  }

  private async tryShared(): Promise<number> {
    this.sharedPassInFlight = true;
    this.sharedPassStartedAt = Date.now();
    try {
      const claimed = await this.sharedPass();
      this.sharedFailing = false;
      return claimed;
    } catch (err) {
      if (this.redis.status === 'ready') this.sharedFailing = true;
      throw err;
    } finally {
      this.sharedPassInFlight = false;
    }
  }

  private async sharedPass(): Promise<number> {
    if (this.redisWasDown) {
      const reseeded = await this.schedule.reseed();
      this.redisWasDown = false;
      this.logger.log(`Redis is back: heartbeats coordinated through Redis again (${reseeded} known token(s) re-scheduled)`);
    }
    if (Date.now() - this.prunedAt > PRUNE_EVERY_MS) {
      this.schedule.local.prune();
      this.prunedAt = Date.now();
    }
    const rate = this.config.heartbeat.ratePerSecond;
    const max = Math.max(1, Math.ceil((rate * TICK_MS) / 1000) * 2);
    const due = await this.schedule.claimDue(max, rate);
    await Promise.all(due.map((jobId) => this.beat(jobId)));
    return due.length;
  }

  /**
   * Redis is unreachable: the shared schedule cannot be read, but Step Functions' clocks keep
   * running. Heartbeat the tokens this replica knows from memory (uncoordinated: a token known to
   * two replicas gets two heartbeats while the outage lasts).
   */
  private fallbackTick(): number {
    if (!this.redisWasDown) {
      this.redisWasDown = true;
      this.logger.warn(`Redis unreachable: heartbeating the ${this.schedule.local.size} token(s) this replica knows from memory`);
    }
    const now = Date.now();
    const budget = Math.ceil((this.config.heartbeat.ratePerSecond * TICK_MS) / 1000);
    const due = this.schedule.local.due(now, Math.min(budget, MAX_FALLBACK_IN_FLIGHT - this.fallbackInFlight));
    for (const [jobId, entry] of due) {
      // Not due again while its call is in flight; calls overlap ticks instead of blocking them.
      this.schedule.local.touch(jobId, now + entry.intervalMs);
      this.fallbackInFlight++;
      void this.fallbackBeat(jobId, entry).finally(() => this.fallbackInFlight--);
    }
    return due.length;
  }

  private async fallbackBeat(jobId: string, entry: LocalHeartbeat): Promise<void> {
    const result = await this.callbacks.heartbeat(entry.taskToken);
    this.logger.debug(`Heartbeat from memory for task ${tokenRef(entry.taskToken)} (${entry.binding}): ${result.ok ? 'ok' : result.name}`);
    if (result.ok) {
      this.metrics.heartbeats.inc({ binding: entry.binding, result: 'ok' });
    } else if (result.kind === SfnErrorKind.TaskGone) {
      // Closed or cancelled meanwhile; the shared schedule handles it once Redis is back.
      this.metrics.heartbeats.inc({ binding: entry.binding, result: 'expired' });
      this.schedule.local.forget(jobId);
    } else {
      this.metrics.heartbeats.inc({ binding: entry.binding, result: 'error' });
      this.schedule.local.touch(jobId, Date.now() + Math.min(entry.intervalMs / 2, RETRY_AFTER_ERROR_MS));
    }
  }

  private scheduleTick(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      const pass = this.tick()
        .then(() => this.passFailures.success())
        .catch((err: Error) => this.passFailures.failure(err.message));
      // A shared pass caught by a Redis outage waits for the reconnect (ioredis queues its
      // commands); the loop does not, so the next tick can fall back to memory meanwhile.
      const settled = new AbortController();
      void pass.finally(() => settled.abort());
      this.running = delay(PASS_WAIT_MS, settled.signal).finally(() => this.scheduleTick());
    }, TICK_MS);
  }

  private async closedByRelay(jobId: string): Promise<boolean> {
    const fresh = await Job.fromId<CancellableRelayData>(this.relayQueue, jobId);
    if (!fresh || fresh.finishedOn) return true;
    return (await fresh.getState()) === 'active';
  }

  private async beat(jobId: string): Promise<void> {
    const relayJob = await Job.fromId<CancellableRelayData>(this.relayQueue, jobId);
    if (!relayJob || relayJob.finishedOn || relayJob.data.cancelled) {
      await this.schedule.remove(jobId);
      return;
    }
    const { binding, taskToken } = relayJob.data;
    const interval = this.intervals.get(binding) ?? this.config.heartbeat.defaultSeconds * 1000;
    if (Date.now() - (relayJob.processedOn ?? 0) < RELAYING_GRACE_MS && (await relayJob.getState()) === 'active') {
      // The relay is sending the result right now; a heartbeat would only race it. (A relay job
      // active for longer is retrying, or held by a replica that died: keep the task alive.)
      await this.schedule.reschedule(jobId, Date.now() + RELAYING_RECHECK_MS);
      return;
    }
    this.schedule.local.remember(jobId, { taskToken, binding, intervalMs: interval, nextDueAt: Date.now() + interval });
    const result = await this.callbacks.heartbeat(taskToken);
    if (result.ok) {
      this.callFailures.success();
      this.metrics.heartbeats.inc({ binding, result: 'ok' });
      await this.schedule.reschedule(jobId, Date.now() + interval);
      return;
    }
    if (result.kind === SfnErrorKind.TaskGone) {
      if (await this.closedByRelay(jobId)) {
        // The relay closed the task between our read and the heartbeat: not a cancellation.
        this.metrics.heartbeats.inc({ binding, result: 'closed' });
        await this.schedule.remove(jobId);
        return;
      }
      this.metrics.heartbeats.inc({ binding, result: 'expired' });
      await this.canceller.cancel(relayJob, result.name);
      return;
    }
    this.metrics.heartbeats.inc({ binding, result: 'error' });
    this.callFailures.failure(`${result.name} for task ${tokenRef(taskToken)} (${binding}); retrying`);
    await this.schedule.reschedule(jobId, Date.now() + Math.min(interval / 2, RETRY_AFTER_ERROR_MS));
  }
}
