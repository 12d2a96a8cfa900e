import type { Cluster, Redis } from 'ioredis';

/**
 * What a chaos run's Redis is, behind one interface: a private single redis-server (restarted by
 * the monkey), a private Redis Cluster or a Sentinel-managed primary (failed over by the monkey).
 * The rest of the run (bridges, consumers, read-out, report) only sees this.
 */
export type RedisMode = 'single' | 'cluster' | 'sentinel';
export const REDIS_MODES: readonly RedisMode[] = ['single', 'cluster', 'sentinel'];

export type FailoverKind = 'graceful' | 'kill';
/** The chaos event names of the Redis actions when Redis fails over instead of restarting. */
export type FailoverAction = `redis-failover-${FailoverKind}`;

/** One failover the monkey did: of which primary, how, and how long each half took. */
export interface FailoverRecord {
  kind: FailoverKind;
  /** ms since the epoch. */
  at: number;
  oldPrimary: number;
  newPrimary: number;
  /** Start to a new primary serving (the harness' figure: the outage the bridge rode through). */
  ms: number;
  /** Then until the old primary was an in-sync replica again (restarted first after a kill). */
  rejoinMs: number;
}

/** What one Redis chaos action did, for the monkey's event list and log. */
export interface RedisDisruption {
  action: 'redis-sigterm' | 'redis-sigkill' | FailoverAction;
  target: string;
  /** The outage window (start to Redis serving again), used to attribute timeouts. */
  ms: number;
  failover?: FailoverRecord;
  logLine: string;
}

export interface RedisTopology {
  readonly mode: RedisMode;
  /** BullMQ prefix of the run (hash-tagged on a Cluster). */
  readonly prefix: string;
  /** After `redis `: e.g. `redis://127.0.0.1:6390 (AOF in /tmp/...)`, for the log and the report. */
  readonly description: string;
  /** The bridge's Redis env (REDIS_URL, or REDIS_URL='' and the Cluster / Sentinel variables). */
  readonly bridgeEnv: Record<string, string>;
  /** A client for the consumers (BullMQ-ready; waits through restarts and failovers). */
  connect(): Redis | Cluster;
  /** A client for the read-out probes. */
  probe(): Redis | Cluster;
  /** `up`, `DOWN`, or how many nodes are up. */
  status(): string;
  /** One Redis chaos action (`redis-sigterm` / `redis-sigkill` of the rotation); resolves once Redis is whole again. */
  disrupt(action: 'redis-sigterm' | 'redis-sigkill', random: () => number): Promise<RedisDisruption>;
  stop(): Promise<void>;
}

/** A failover done by a harness, as a disruption (shared by the Cluster and Sentinel topologies). */
export function failoverDisruption(
  what: string,
  kind: FailoverKind,
  at: number,
  result: { oldPrimary: number; newPrimary: number; ms: number },
  rejoinMs: number,
): RedisDisruption {
  const failover: FailoverRecord = { kind, at, ...result, rejoinMs };
  const how = kind === 'graceful' ? 'graceful failover' : 'primary SIGKILLed, failed over';
  return {
    action: `redis-failover-${kind}`,
    target: `${what} ${result.oldPrimary}->${result.newPrimary}`,
    ms: result.ms,
    failover,
    logLine: `redis-failover-${kind}: ${what} ${how} ${result.oldPrimary} -> ${result.newPrimary} in ${result.ms} ms; old primary ${kind === 'kill' ? 'restarted and ' : ''}back as replica after ${rejoinMs} ms more`,
  };
}

/** Graceful or kill, drawn from the chaos schedule's seeded RNG. */
export function drawFailoverKind(random: () => number): FailoverKind {
  return random() < 0.5 ? 'graceful' : 'kill';
}
