/** Typed, validated configuration of the bridge. Built by `loadConfig()`; never mutated afterwards. */
import type { RedisTarget } from './redis-target';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface BackoffConfig {
  type: 'fixed' | 'exponential';
  /** Milliseconds, integer >= 0. */
  delay: number;
}

/** BullMQ job options passed through to the child job of every task of a binding. */
export interface JobOptionsConfig {
  priority?: number;
  removeOnComplete?: number | boolean;
  removeOnFail?: number | boolean;
}

/** One route: Step Functions activity ARN -> BullMQ queue (+ job name, options). */
export interface BindingConfig {
  /** Activity name = last ARN segment; metrics label and default jobName. */
  name: string;
  /** arn:aws:states:<region>:<12-digit account>:activity:<name>, 1..256 chars. */
  activityArn: string;
  /** BullMQ queue name; never contains ':'. */
  queue: string;
  /** BullMQ job name of the child job; defaults to `name`. */
  jobName: string;
  /** Most concurrent GetActivityTask long polls per replica, 1..1000 (`pollers` or `pollers.max`). */
  pollers: number;
  /** Pollers an idle binding settles at per replica (`pollers.min`; = `pollers` when fixed). */
  minPollers: number;
  /** Tasks taken and not closed, polls in flight included, over all replicas (kept in Redis), >= 1. */
  maxPending: number;
  /** BullMQ attempts before the task fails, 1..100. */
  attempts: number;
  backoff?: BackoffConfig;
  /** Interval of the bridge's heartbeats for outstanding tokens, 1..86400 s. */
  heartbeatSeconds: number;
  jobOptions: JobOptionsConfig;
}

export interface BridgeConfig {
  port: number;
  /** Where Redis is (one node, a Cluster or a Sentinel group) and the BullMQ prefix of every key. */
  redis: RedisTarget & { prefix: string };
  aws: { region: string; endpoint?: string };
  workerName: string;
  /** Relays in flight per replica; attempts and backoff of a relay on transient AWS errors. */
  relay: { concurrency: number; attempts: number; backoffMs: number };
  heartbeat: { defaultSeconds: number; ratePerSecond: number; progressMinIntervalMs: number };
  enqueue: { retryForMs: number };
  shutdown: { drainTimeoutMs: number };
  board: { enabled: boolean; basePath: string; user: string; password?: string };
  log: { level: LogLevel; payloads: boolean };
  bindings: BindingConfig[];
}
