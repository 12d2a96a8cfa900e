/**
 * The direct worker and the bridge measured in alternating rounds (direct, bridge, direct, ...),
 * reported as medians. On a shared 2-vCPU VM one pair is not a measurement: back to back, the
 * direct worker alone swung 482-735 tasks/s and single pairs gave 0.64-1.06 x. A slow stretch hits
 * one side of one round; the median of the per-round ratios does not move with it, and every
 * round is printed next to it.
 */
import type { Throughput } from '../phases/throughput';
import { percentile } from './stats';

export interface Round {
  direct?: Throughput;
  bridge?: Throughput;
}

export const median = (values: number[]): number => percentile(values, 50);

/** Field-wise median of the numeric figures; commands and the profile window of the median-rate run. */
export function medianThroughput(runs: Throughput[]): Throughput | undefined {
  if (runs.length === 0) return undefined;
  const mid = [...runs].sort((a, b) => a.rate - b.rate)[Math.floor((runs.length - 1) / 2)];
  const num = (k: keyof Throughput) => {
    const v = runs.map((r) => r[k]).filter((x): x is number => typeof x === 'number');
    return v.length ? median(v) : undefined;
  };
  return {
    ...mid,
    tasks: num('tasks')!,
    seconds: num('seconds')!,
    rate: num('rate')!,
    cpuMsPerTask: num('cpuMsPerTask')!,
    consumerCpuMsPerTask: num('consumerCpuMsPerTask'),
    redisCpuMsPerTask: num('redisCpuMsPerTask'),
    emulatorCores: num('emulatorCores')!,
    redisCommandsPerTask: num('redisCommandsPerTask')!,
  };
}

/** Bridge / direct of `figure` in each complete round. */
export function roundRatios(rounds: Round[], figure: (t: Throughput) => number): number[] {
  return rounds.filter((r) => r.direct && r.bridge).map((r) => figure(r.bridge!) / figure(r.direct!));
}
