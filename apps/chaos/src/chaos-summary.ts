import type { SfnLocalCounters } from '../../sfn-local/src/counters';
import type { ChaosOptions } from './chaos-options';
import type { DispatchFigures } from './dispatch-sampler';
import type { FailoverRecord, RedisMode } from './redis-topology';
import type { SilenceFigures } from './heartbeat-silence';

export interface ChaosRow {
  label: string;
  value: number;
  /** 'zero': must be 0 (fails the run); 'info': reported. */
  rule: 'zero' | 'info';
  note?: string;
}

/** The run's verdict: printed as a table and written by `--report` as JSON. */
export interface ChaosSummary {
  ok: boolean;
  seconds: number;
  options: Omit<ChaosOptions, 'log'>;
  rows: ChaosRow[];
  events: Record<string, number>;
  /** The run's Redis, and every failover of its primary (none with `single`). */
  redis: { mode: RedisMode; description: string; failovers: FailoverRecord[] };
  /** Executions lost for good, first 50 (each one fails the run). */
  lostDetail: string[];
  /** Tokens that died unwritten with a SIGKILLed replica (accepted, reported), first 50. */
  unwrittenDetail: string[];
  wrongDetail: string[];
  timeoutLines: string[];
  timeoutDetail: Record<string, number>;
  counters: Pick<
    SfnLocalCounters,
    'calls' | 'errors' | 'faultsFired' | 'closes' | 'duplicateSendTask' | 'secondResults' | 'heartbeats' | 'pollsAbandoned'
  >;
  relayOutcomes: Record<string, number>;
  /** Token received -> task in Redis, from the replicas' histograms. */
  dispatch: DispatchFigures;
  /** The same, without the scrape intervals that overlap a Redis outage (or failover) + 2 s. */
  dispatchClearOfRedisOutages: DispatchFigures;
  /** Longest heartbeat silence per token, from the emulator's task records. */
  silence: SilenceFigures;
  secondResultLines: string[];
  logDir?: string;
}
