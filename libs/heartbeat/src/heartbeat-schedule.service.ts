import { Inject, Injectable } from '@nestjs/common';
import { BRIDGE_CONFIG, BridgeConfig } from '@bridge/config';
import { LimitKeys } from '@bridge/common';
import { inOneWrite, REDIS_CONNECTION } from '@bridge/queue';
import { endTaskHeartbeats, progressHeartbeatDue } from '@bridge/tracing';
import IORedis from 'ioredis';
import { CLAIM_DUE_SCRIPT } from './claim-due.lua';
import { DROP_ORPHAN_SCRIPT } from './drop-orphan.lua';
import { HeartbeatKeys } from './heartbeat-keys';
import { claimHoldMs, claimLeaseMs } from './heartbeat-timing';
import { LocalHeartbeat, LocalHeartbeats, NewLocalHeartbeat } from './local-heartbeats';

/** The one command a taken task's schedule entry needs, on whichever connection writes it. */
export interface ZaddClient {
  zadd(key: string, mode: 'NX', score: number, member: string): Promise<number | string | null>;
}

/**
 * The one owner of every taken token's liveness data: the shared schedule of outstanding tokens
 * (by job id) in Redis, and this replica's private in-memory copy of the tokens it took (until
 * written) or recently claimed. The producer takes a task (memory) and writes its entry with the
 * task's flow; the heartbeat loop claims due ones; the relay removes a task when it closes.
 */
@Injectable()
export class HeartbeatSchedule {
  readonly keys: HeartbeatKeys;
  private readonly limits: LimitKeys;
  private readonly memory = new LocalHeartbeats();
  /** How far a claim pushes a token's entry: within the claim lease if its claimer dies. */
  private readonly holdMs: number;

  constructor(
    @Inject(REDIS_CONNECTION) private readonly redis: IORedis,
    @Inject(BRIDGE_CONFIG) config: BridgeConfig,
  ) {
    this.keys = new HeartbeatKeys(config.redis.prefix);
    this.limits = new LimitKeys(config.redis.prefix);
    this.holdMs = claimHoldMs(claimLeaseMs(config.bindings.map((b) => b.heartbeatSeconds * 1000)));
    this.redis.defineCommand('sfnBridgeClaimDue', { numberOfKeys: 2, lua: CLAIM_DUE_SCRIPT });
    this.redis.defineCommand('sfnBridgeDropOrphan', { numberOfKeys: 2, lua: DROP_ORPHAN_SCRIPT });
  }

  /**
   * A task was just taken: from now until `written` (or `forget`), this replica's heartbeat loop
   * keeps it alive from memory, whatever Redis does. Synchronous, no I/O.
   */
  take(jobId: string, entry: NewLocalHeartbeat): void {
    this.memory.take(jobId, entry);
  }

  /**
   * Writes a taken task's first heartbeat (no-op if already scheduled) on `connection`: the
   * producer issues it on its own connection in the same tick as the task's flow, one round trip.
   */
  writeEntry(connection: ZaddClient, jobId: string, dueAt: number): Promise<unknown> {
    return connection.zadd(this.keys.schedule, 'NX', dueAt, jobId);
  }

  /** The taken task is in Redis: the shared schedule keeps it alive from now on. */
  written(jobId: string): void {
    this.memory.written(jobId);
  }

  /** This replica is done with a token (failed explicitly, closed): no more heartbeats from memory. */
  forget(jobId: string): void {
    this.memory.forget(jobId);
    endTaskHeartbeats(jobId);
  }

  /** Claimed or heartbeated through the shared schedule: remembered for an outage. */
  remember(jobId: string, entry: NewLocalHeartbeat): void {
    this.memory.remember(jobId, entry);
  }

  /** Tokens due a heartbeat from memory: pending ones only, or every fresh one (`all`). */
  dueFromMemory(now: number, max: number, all: boolean): Array<[string, LocalHeartbeat]> {
    return this.memory.due(now, max, !all);
  }

  /** Moves a token's next heartbeat from memory on (no Redis). */
  touchInMemory(jobId: string, nextDueAt: number): void {
    this.memory.touch(jobId, nextDueAt);
  }

  /** The token's entry in memory was answered "task gone": dropped, pending or not. */
  forgetInMemory(jobId: string): void {
    this.memory.forget(jobId);
    endTaskHeartbeats(jobId);
  }

  /** Tokens in memory (all, and taken-not-yet-written). */
  memoryCounts(): { known: number; pending: number } {
    return { known: this.memory.size, pending: this.memory.pendingCount };
  }

  pruneMemory(): number {
    return this.memory.prune();
  }

  async reschedule(jobId: string, dueAt: number): Promise<void> {
    this.memory.touch(jobId, dueAt);
    await this.redis.zadd(this.keys.schedule, 'XX', dueAt, jobId);
  }

  /** After an outage: re-adds what this replica knows (heals schedule writes Redis lost). */
  async reseed(): Promise<number> {
    const entries = this.memory.freshEntries();
    if (entries.length === 0) return 0;
    const pipeline = this.redis.pipeline();
    for (const [jobId, entry] of entries) pipeline.zadd(this.keys.schedule, 'NX', entry.nextDueAt, jobId);
    await pipeline.exec();
    return entries.length;
  }

  /** Makes a scheduled heartbeat due now, at most once per `minIntervalMs` per job (all replicas). */
  async expedite(jobId: string, minIntervalMs: number): Promise<boolean> {
    const first = await this.redis.set(this.keys.progress(jobId), '1', 'PX', minIntervalMs, 'NX');
    if (first !== 'OK') return false;
    await this.redis.zadd(this.keys.schedule, 'XX', 'LT', Date.now(), jobId);
    progressHeartbeatDue(jobId);
    return true;
  }

  /**
   * Where a task closed by a script (the relay's close) leaves: the shared schedule and its
   * binding's outstanding set. The script removes it there; `closedElsewhere` then ends it here.
   */
  unscheduleKeys(binding: string): { schedule: string; outstanding: string } {
    return { schedule: this.keys.schedule, outstanding: this.limits.outstanding(binding) };
  }

  /** A script removed the task from the shared schedule (unscheduleKeys): no more heartbeats from here either. */
  closedElsewhere(jobId: string): void {
    this.memory.forgetWritten(jobId);
    endTaskHeartbeats(jobId);
  }

  /**
   * Removes a token from the shared schedule (its task closed or was cancelled). A token
   * this replica took and is still writing stays in memory: only the producer ends that.
   */
  async remove(jobId: string, binding?: string): Promise<void> {
    this.memory.forgetWritten(jobId);
    endTaskHeartbeats(jobId);
    if (binding === undefined) {
      await this.redis.zrem(this.keys.schedule, jobId);
      return;
    }
    // The task closed: it also leaves its binding's outstanding set (maxPending), same write.
    await Promise.all(
      inOneWrite(this.redis, () => [this.redis.zrem(this.keys.schedule, jobId), this.redis.zrem(this.limits.outstanding(binding), jobId)]),
    );
  }

  /**
   * A claimed token had no task record: drops its entry unless the record (key `recordKey`) exists
   * by now, in which case the entry stays, due at once. Returns whether it was dropped. A token this
   * replica took and is still writing stays in memory either way: only the producer ends that.
   */
  async dropOrphan(jobId: string, recordKey: string): Promise<boolean> {
    const drop = (this.redis as unknown as Record<string, (...args: (string | number)[]) => Promise<unknown>>).sfnBridgeDropOrphan;
    const dropped = Number(await drop.call(this.redis, this.keys.schedule, recordKey, jobId, Date.now())) === 1;
    if (dropped) {
      this.memory.forgetWritten(jobId);
      endTaskHeartbeats(jobId);
    }
    return dropped;
  }

  /** Claims due tokens for this replica; null when the shared schedule is empty (nothing to tick for). */
  async claimDue(max: number, ratePerSecond: number): Promise<string[] | null> {
    const claim = (this.redis as unknown as Record<string, (...args: (string | number)[]) => Promise<unknown>>).sfnBridgeClaimDue;
    const reply = await claim.call(
      this.redis,
      this.keys.schedule,
      this.keys.bucket,
      Date.now(),
      max,
      ratePerSecond,
      Math.max(1, ratePerSecond),
      this.holdMs,
    );
    if (reply !== null && !Array.isArray(reply)) throw new Error(`Unexpected heartbeat claim reply: ${typeof reply}`);
    return reply as string[] | null;
  }

  async markCancelled(jobId: string, reason: string): Promise<void> {
    await this.redis.set(this.keys.cancelled(jobId), reason, 'EX', 86_400);
  }
}
