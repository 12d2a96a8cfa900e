import { Inject, Injectable } from '@nestjs/common';
import { BRIDGE_CONFIG, BridgeConfig } from '@bridge/config';
import { REDIS_CONNECTION } from '@bridge/queue';
import IORedis from 'ioredis';
import { CLAIM_DUE_SCRIPT } from './claim-due.lua';
import { HeartbeatKeys } from './heartbeat-keys';
import { LocalHeartbeat, LocalHeartbeats } from './local-heartbeats';

/**
 * How long a claimed heartbeat is reserved for the replica that claimed it, at most: if that
 * replica dies, another claims the token after the lease. Capped at half the shortest binding
 * interval, so a crash delays a heartbeat by at most half an interval (a slow heartbeat may then be
 * sent twice, which is harmless).
 */
export const CLAIM_LEASE_MS = 5_000;

/**
 * The shared schedule of outstanding tokens (by job id) in Redis. The producer adds a task when it
 * enqueues it, the heartbeat loop claims due ones, the relay removes a task when it closes.
 */
@Injectable()
export class HeartbeatSchedule {
  readonly keys: HeartbeatKeys;
  /** This replica's in-memory copy of the tokens it recently enqueued or heartbeated. */
  readonly local = new LocalHeartbeats();
  private readonly leaseMs: number;

  constructor(
    @Inject(REDIS_CONNECTION) private readonly redis: IORedis,
    @Inject(BRIDGE_CONFIG) config: BridgeConfig,
  ) {
    this.keys = new HeartbeatKeys(config.redis.prefix);
    this.leaseMs = Math.min(CLAIM_LEASE_MS, ...config.bindings.map((b) => (b.heartbeatSeconds * 1000) / 2));
    this.redis.defineCommand('sfnBridgeClaimDue', { numberOfKeys: 2, lua: CLAIM_DUE_SCRIPT });
  }

  /**
   * Schedules the first heartbeat of a newly taken task (no-op if already scheduled). It is
   * remembered locally first, so it is kept alive even if Redis refuses the write.
   */
  async add(jobId: string, dueAt: number, task: Omit<LocalHeartbeat, 'touchedAt' | 'nextDueAt'>): Promise<void> {
    this.local.remember(jobId, { ...task, nextDueAt: dueAt });
    await this.redis.zadd(this.keys.schedule, 'NX', dueAt, jobId);
  }

  async reschedule(jobId: string, dueAt: number): Promise<void> {
    this.local.touch(jobId, dueAt);
    await this.redis.zadd(this.keys.schedule, 'XX', dueAt, jobId);
  }

  /** After an outage: re-adds what this replica knows (heals schedule writes Redis lost). */
  async reseed(): Promise<number> {
    const entries = this.local.freshEntries();
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
    return true;
  }

  async remove(jobId: string): Promise<void> {
    this.local.forget(jobId);
    await this.redis.zrem(this.keys.schedule, jobId);
  }

  async claimDue(max: number, ratePerSecond: number): Promise<string[]> {
    const claim = (this.redis as unknown as Record<string, (...args: (string | number)[]) => Promise<string[]>>)
      .sfnBridgeClaimDue;
    return claim.call(
      this.redis,
      this.keys.schedule,
      this.keys.bucket,
      Date.now(),
      max,
      ratePerSecond,
      Math.max(1, ratePerSecond),
      this.leaseMs,
    );
  }

  async markCancelled(jobId: string, reason: string): Promise<void> {
    await this.redis.set(this.keys.cancelled(jobId), reason, 'EX', 86_400);
  }

}
