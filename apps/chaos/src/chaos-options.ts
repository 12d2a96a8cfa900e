import type { RedisMode } from './redis-topology';
import { Kind, KINDS } from './workload';

export type ChaosAction = 'bridge-sigkill' | 'bridge-sigterm' | 'redis-sigterm' | 'redis-sigkill';
export const ALL_ACTIONS: ChaosAction[] = ['bridge-sigkill', 'redis-sigterm', 'bridge-sigterm', 'redis-sigkill'];

export interface ChaosOptions {
  executions: number;
  /** Bound on the whole run (start to verdict, not counting the final read-out). */
  seconds: number;
  seed: number;
  replicas: number;
  /** single: one redis-server, restarted by the Redis actions; cluster / sentinel: its primary failed over instead. */
  redis: RedisMode;
  /** StartExecution per second. */
  rate: number;
  /** Mean seconds between two chaos actions. */
  chaosEverySeconds: number;
  actions: ChaosAction[];
  /** Inject ~10 % throttling / 5xx / dropped connections at the emulator. */
  faults: boolean;
  kinds: Kind[];
  heartbeatWorkMs: [number, number];
  taskTimeoutSeconds: number;
  /** HeartbeatSeconds of the heartbeat-needing Task state (the bridge heartbeats every 1 s). */
  taskHeartbeatSeconds: number;
  /** Give up waiting when no execution ended for this long after the chaos stopped. */
  stallSeconds: number;
  keep: boolean;
  log: (line: string) => void;
}

export const DEFAULT_OPTIONS: ChaosOptions = {
  executions: 10_000,
  seconds: 1_800,
  seed: 1,
  replicas: 2,
  redis: 'single',
  rate: 100,
  chaosEverySeconds: 6,
  actions: ALL_ACTIONS,
  faults: true,
  kinds: Object.keys(KINDS) as Kind[],
  heartbeatWorkMs: [4_000, 8_000],
  taskTimeoutSeconds: 300,
  taskHeartbeatSeconds: 5,
  stallSeconds: 90,
  keep: false,
  log: (line) => process.stderr.write(`${line}\n`),
};
