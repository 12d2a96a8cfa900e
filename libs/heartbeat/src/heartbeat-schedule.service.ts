import { Inject, Injectable } from '@nestjs/common';
import { BRIDGE_CONFIG, BridgeConfig } from '@bridge/config';
import { REDIS_CONNECTION } from '@bridge/queue';
import IORedis from 'ioredis';
import { CLAIM_DUE_SCRIPT } from './claim-due.lua';
import { HeartbeatKeys } from './heartbeat-keys';

/** How long a claimed heartbeat is reserved for the replica that claimed it. */
export const CLAIM_LEASE_MS = 5_000;

/**
 * The shared schedule of outstanding tokens (by job id) in Redis. The producer adds a task when it
 * enqueues it, the heartbeat loop claims due ones, the relay removes a task when it closes.
 */
@Injectable()
export class HeartbeatSchedule {
  readonly keys: HeartbeatKeys;

  constructor(
    @Inject(REDIS_CONNECTION) private readonly redis: IORedis,
    @Inject(BRIDGE_CONFIG) config: BridgeConfig,
  ) {
    this.keys = new HeartbeatKeys(config.redis.prefix);
    this.redis.defineCommand('sfnBridgeClaimDue', { numberOfKeys: 2, lua: CLAIM_DUE_SCRIPT });
  }

  /** Schedules the first heartbeat of a newly taken task (no-op if already scheduled). */
  async add(jobId: string, dueAt: number): Promise<void> {
    await this.redis.zadd(this.keys.schedule, 'NX', dueAt, jobId);
  }

  async reschedule(jobId: string, dueAt: number): Promise<void> {
    await this.redis.zadd(this.keys.schedule, 'XX', dueAt, jobId);
  }

  /** Makes a scheduled heartbeat due now, at most once per `minIntervalMs` per job (all replicas). */
  async expedite(jobId: string, minIntervalMs: number): Promise<boolean> {
    const first = await this.redis.set(this.keys.progress(jobId), '1', 'PX', minIntervalMs, 'NX');
    if (first !== 'OK') return false;
    await this.redis.zadd(this.keys.schedule, 'XX', 'LT', Date.now(), jobId);
    return true;
  }

  async remove(jobId: string): Promise<void> {
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
      CLAIM_LEASE_MS,
    );
  }

  async markCancelled(jobId: string, reason: string): Promise<void> {
    await this.redis.set(this.keys.cancelled(jobId), reason, 'EX', 86_400);
  }

  async size(): Promise<number> {
    return this.redis.zcard(this.keys.schedule);
  }
}
