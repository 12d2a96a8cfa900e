import { Inject, Injectable } from '@nestjs/common';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { LimitKeys } from '@bridge/common';
import { BRIDGE_CONFIG, BridgeConfig } from '@bridge/config';
import { PRODUCER_CONNECTION, REDIS_CONNECTION, RedisClient } from '@bridge/queue';
import { HeartbeatKeys } from '@bridge/heartbeat';
import { LEAVE_SCRIPT, RELEASE_SCRIPT, RENEW_SCRIPT, RESERVE_SCRIPT, SWEEP_SCRIPT, TAKEN_SCRIPT } from './reservation.lua';
import { UnexpectedReplyError } from './unexpected-reply.error';

/** A replica's lease: renewed every LEASE_RENEW_MS; a replica silent for LEASE_MS has its poll slots purged. */
export const LEASE_MS = 6_000;
export const LEASE_RENEW_MS = 2_000;
/** Step Functions' cap on parked GetActivityTask calls per activity, summed over every worker. */
export const AWS_POLLS_PER_ACTIVITY = 1_000;

type Script = (...args: (string | number)[]) => Promise<unknown>;

/**
 * The Redis side of the cross-replica `maxPending` (one owner: the outstanding set and the poll-slot
 * hashes are written only here and by the close of a task, `HeartbeatSchedule.remove`). Reserve,
 * release and lease renewal use the shared connection; the "task taken" script rides on the
 * producer's connection, issued in the same tick as the task's flow write (no extra round trip).
 */
@Injectable()
export class SlotReservations {
  readonly replica = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  readonly keys: LimitKeys;
  private readonly schedule: string;
  private readonly bindings: string[];

  constructor(
    @Inject(REDIS_CONNECTION) private readonly redis: RedisClient,
    @Inject(PRODUCER_CONNECTION) private readonly producerRedis: RedisClient,
    @Inject(BRIDGE_CONFIG) config: BridgeConfig,
  ) {
    this.keys = new LimitKeys(config.redis.prefix);
    this.schedule = new HeartbeatKeys(config.redis.prefix).schedule;
    this.bindings = config.bindings.map((b) => b.name);
    for (const [name, lua, numberOfKeys] of [
      ['sfnBridgeReserve', RESERVE_SCRIPT, 2],
      ['sfnBridgeRelease', RELEASE_SCRIPT, 1],
      ['sfnBridgeSweep', SWEEP_SCRIPT, 2],
      ['sfnBridgeRenew', RENEW_SCRIPT, 1 + this.bindings.length],
      ['sfnBridgeLeave', LEAVE_SCRIPT, 1 + this.bindings.length],
    ] as const) {
      this.redis.defineCommand(name, { lua, numberOfKeys });
    }
    this.producerRedis.defineCommand('sfnBridgeTaken', { lua: TAKEN_SCRIPT, numberOfKeys: 2 });
  }

  /** Asks for up to `want` poll slots of `binding`. */
  async reserve(binding: string, want: number, maxPending: number): Promise<{ granted: number; outstanding: number }> {
    const [granted, outstanding] = twoIntegers(
      'sfnBridgeReserve',
      await this.call(this.redis, 'sfnBridgeReserve')(
        this.keys.outstanding(binding),
        this.keys.polls(binding),
        this.replica,
        want,
        maxPending,
        AWS_POLLS_PER_ACTIVITY,
      ),
    );
    return { granted, outstanding };
  }

  /** A poll with one of our slots returned a task: it becomes outstanding; `kept` = the slot stays ours. */
  async taken(binding: string, jobId: string, takenAt: number, maxPending: number): Promise<{ kept: boolean; outstanding: number }> {
    const [kept, outstanding] = twoIntegers(
      'sfnBridgeTaken',
      await this.call(this.producerRedis, 'sfnBridgeTaken')(
        this.keys.outstanding(binding),
        this.keys.polls(binding),
        this.replica,
        jobId,
        takenAt,
        maxPending,
      ),
    );
    return { kept: kept === 1, outstanding };
  }

  /** Gives back `count` slots (pollers stopped). */
  async release(binding: string, count: number): Promise<number> {
    return (await this.call(this.redis, 'sfnBridgeRelease')(this.keys.polls(binding), this.replica, count)) as number;
  }

  /** Closes a task that never reached the queue (Bridge.EnqueueFailed): it leaves the outstanding set. */
  async closeUnwritten(binding: string, jobId: string): Promise<void> {
    await this.redis.zrem(this.keys.outstanding(binding), jobId);
  }

  /** Renews this replica's lease (slots held per binding, in config order) and purges expired replicas. */
  async renew(slotsPerBinding: number[], now = Date.now()): Promise<{ purged: number; reasserted: boolean }> {
    const [purged, reasserted] = twoIntegers(
      'sfnBridgeRenew',
      await this.call(this.redis, 'sfnBridgeRenew')(
        this.keys.replicas,
        ...this.bindings.map((b) => this.keys.polls(b)),
        this.replica,
        now,
        LEASE_MS,
        ...slotsPerBinding,
      ),
    );
    return { purged, reasserted: reasserted === 1 };
  }

  /** Drops outstanding entries of tasks whose heartbeat-schedule entry is gone (closed); returns how many. */
  async sweep(binding: string): Promise<number> {
    return (await this.call(this.redis, 'sfnBridgeSweep')(this.keys.outstanding(binding), this.schedule)) as number;
  }

  /** This replica stops: every slot it holds is given back at once (not after the lease). */
  async leave(): Promise<void> {
    await this.call(this.redis, 'sfnBridgeLeave')(this.keys.replicas, ...this.bindings.map((b) => this.keys.polls(b)), this.replica);
  }

  private call(connection: RedisClient, name: string): Script {
    const fn = (connection as unknown as Record<string, Script>)[name];
    return fn.bind(connection);
  }
}

/** The scripts answer two integers; anything else is refused (UnexpectedReplyError), never read. */
export function twoIntegers(script: string, reply: unknown): [number, number] {
  if (Array.isArray(reply) && reply.length === 2 && reply.every((n) => Number.isInteger(n))) return reply as [number, number];
  throw new UnexpectedReplyError(script, reply);
}
