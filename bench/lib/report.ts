/** The bench's one table: issue 9's rows, each with the direct worker, the bridge, and the ratio or target. */
import type { IdleCost } from '../phases/idle';
import type { Latency } from '../phases/latency';
import type { SteadyRss } from '../phases/memory';
import type { Throughput } from '../phases/throughput';
import { median, Round, roundRatios } from './rounds';
import { fmt, printTable } from './stats';

export interface Results {
  baseline?: { jobs: number; rate: number; commandsPerJob: number; top: [string, number][] };
  /** Alternating direct / bridge rounds; `direct` and `bridge` are their field-wise medians. */
  rounds?: Round[];
  direct?: Throughput;
  bridge?: Throughput;
  floorFlow?: Throughput;
  floorEvents?: Throughput;
  held?: {
    idleMb: number;
    holdingMb: number;
    held: number;
    seconds: number;
    idleHeap?: { usedMb: number; totalMb: number };
    holdingHeap?: { usedMb: number; totalMb: number };
  };
  steady?: SteadyRss;
  idle?: IdleCost;
  latency?: Latency[];
}

const ratio = (a?: number, b?: number) => (a !== undefined && b !== undefined ? `${fmt(a / b, 2)} x` : '-');
const top = (t: [string, number][], digits = 1, n = 4) =>
  t
    .slice(0, n)
    .map(([k, v]) => `${k} ${fmt(v, digits)}`)
    .join(', ');

export function printRows(r: Results): void {
  const d = r.direct;
  const b = r.bridge;
  const rows: string[][] = [];
  if (r.baseline)
    rows.push([
      'plain BullMQ add + no-op worker: jobs/s; Redis commands per job',
      '-',
      `${fmt(r.baseline.rate)}; ${fmt(r.baseline.commandsPerJob, 1)} (${top(r.baseline.top.map(([k, v]) => [k, v / 3000]))})`,
      '-',
      'report',
    ]);
  if (d || b) {
    // The ratio column: the median of the rounds' ratios (rounds.ts), else of the two figures.
    const rounds = r.rounds ?? [];
    const roundsRatio = (figure: (t: Throughput) => number, a?: number, b?: number) => {
      const v = roundRatios(rounds, figure);
      return v.length ? `${fmt(median(v), 2)} x` : ratio(a, b);
    };
    const n = roundRatios(rounds, (t) => t.rate).length;
    const each = n > 1 ? ` (median of ${n} rounds)` : '';
    rows.push([`end-to-end tasks/s${each}`, fmt(d?.rate), fmt(b?.rate), roundsRatio((t) => t.rate, b?.rate, d?.rate), '>= 0.8 x']);
    rows.push([
      `CPU ms per task, worker / bridge process${each}`,
      fmt(d?.cpuMsPerTask, 2),
      fmt(b?.cpuMsPerTask, 2),
      roundsRatio((t) => t.cpuMsPerTask, b?.cpuMsPerTask, d?.cpuMsPerTask),
      '<= 1.2 x',
    ]);
    if (n > 1) {
      const list = (figure: (t: Throughput) => number) =>
        roundRatios(rounds, figure)
          .map((x) => fmt(x, 2))
          .join(', ');
      rows.push([
        '  each round, bridge / direct: tasks/s; CPU ms per task',
        '-',
        '-',
        `${list((t) => t.rate)}; ${list((t) => t.cpuMsPerTask)}`,
        '-',
      ]);
    }
    rows.push([
      'CPU ms per task, BullMQ consumer + Redis server',
      '-',
      b ? `${fmt(b.consumerCpuMsPerTask, 2)} + ${fmt(b.redisCpuMsPerTask, 2)}` : '-',
      '-',
      'report',
    ]);
    rows.push(['emulator CPU during the run (cores)', fmt(d?.emulatorCores, 2), fmt(b?.emulatorCores, 2), '-', '-']);
    if (b) {
      const perTask = b.topCommands.map(([k, v]) => [k, v / b.tasks] as [string, number]);
      rows.push(['Redis commands per task (bridge + consumer)', '0', `${fmt(b.redisCommandsPerTask, 1)} (${top(perTask)})`, '-', 'report']);
    }
  }
  const floors: [string, Throughput | undefined][] = [
    ['design floor, two-job flow + relay worker', r.floorFlow],
    ['design floor, one job + event-stream consumer group', r.floorEvents],
  ];
  for (const [name, f] of floors) {
    if (!f) continue;
    const perTask = f.topCommands.map(([k, v]) => [k, v / f.tasks] as [string, number]);
    rows.push([
      `${name}: tasks/s; CPU ms per task`,
      d ? `${fmt(d.rate)}; ${fmt(d.cpuMsPerTask, 2)}` : '-',
      `${fmt(f.rate)}; ${fmt(f.cpuMsPerTask, 2)}`,
      `${ratio(f.rate, d?.rate)}; ${ratio(f.cpuMsPerTask, d?.cpuMsPerTask)}`,
      'report',
    ]);
    rows.push([
      `  consumer + Redis CPU ms; Redis commands per task`,
      '-',
      `${fmt(f.consumerCpuMsPerTask, 2)} + ${fmt(f.redisCpuMsPerTask, 2)}; ${fmt(f.redisCommandsPerTask, 1)} (${top(perTask)})`,
      '-',
      'report',
    ]);
  }
  if (r.held) {
    const h = r.held;
    rows.push([
      `bridge RSS holding ${h.held} outstanding tasks, no consumer (idle)`,
      '-',
      `${fmt(h.holdingMb)} MB (${fmt(h.idleMb)} MB)`,
      '-',
      '<= 150 MB',
    ]);
    if (h.idleHeap && h.holdingHeap)
      rows.push([
        '  of which V8 heap used / total, holding (idle)',
        '-',
        `${fmt(h.holdingHeap.usedMb)} / ${fmt(h.holdingHeap.totalMb)} MB (${fmt(h.idleHeap.usedMb)} / ${fmt(h.idleHeap.totalMb)} MB)`,
        '-',
        '-',
      ]);
  }
  if (r.steady) {
    const s = r.steady;
    rows.push([
      `bridge RSS, steady ${s.rate} tasks/s (got ${fmt(s.achievedRate)}), ${fmt(s.seconds / 60, 1)} min`,
      '-',
      `${fmt(Math.min(...s.samplesMb))}-${fmt(Math.max(...s.samplesMb))} MB, trend ${fmt(s.slopeMbPerMin, 1)} MB/min`,
      '-',
      '<= 150 MB, flat',
    ]);
  }
  if (r.idle) {
    const i = r.idle;
    const th = i.bridgeThreads;
    const split = th
      ? ` (main thread ${fmt(th.mainUser, 2)} user + ${fmt(th.mainSystem, 2)} system, other threads ${fmt(th.others, 2)})`
      : '';
    rows.push([
      `idle, ${i.bindings} bindings x ${i.pollers} pollers: bridge CPU (direct: the same polls parked)`,
      i.directCpuPercent === undefined ? '-' : `${fmt(i.directCpuPercent, 2)} %`,
      `${fmt(i.bridgeCpuPercent, 2)} %${split}`,
      i.directCpuPercent === undefined ? '-' : `${fmt(i.bridgeCpuPercent / i.directCpuPercent, 2)} x`,
      '<= 1 %',
    ]);
    rows.push([
      'idle: GetActivityTask per poller per minute',
      i.directPollsPerPollerPerMinute === undefined ? '-' : fmt(i.directPollsPerPollerPerMinute, 2),
      fmt(i.pollsPerPollerPerMinute, 2),
      '-',
      '<= 1.1',
    ]);
    rows.push([
      'idle: Redis commands/s (whole server)',
      '-',
      `${fmt(i.redisCommandsPerSecond, 1)} (${top(i.topCommands, 1, 5)})`,
      '-',
      '<= 10',
    ]);
  }
  for (const l of r.latency ?? []) {
    const tgt = l.rate >= 300 ? 'p99 <= 10 ms' : 'p99 <= 5 ms';
    const f = (x: Latency['dispatch'] | undefined) =>
      x ? `p50 ${fmt(x.p50)} / p99 ${fmt(x.p99)} / max ${fmt(x.max)} ms (${fmt(x.within10 * 100)} % <= 10 ms)` : '-';
    const ratio = (d: Latency['dispatch'] | undefined, b: Latency['dispatch']) => (d ? `${fmt(b.p99 / d.p99, 1)} x p99` : '-');
    const head = `${l.rate} tasks/s (got ${fmt(l.achievedRate)}${l.direct ? ` / direct ${fmt(l.direct.achievedRate)}` : ''}), ${l.parkedAtStart} polls parked, ${l.tasks} tasks after ${l.warmupSeconds ?? 0} s warm-up`;
    rows.push([
      `dispatch latency (token -> job waiting; direct: -> task in hand), ${head}`,
      f(l.direct?.dispatch),
      f(l.dispatch),
      ratio(l.direct?.dispatch, l.dispatch),
      tgt,
    ]);
    rows.push([
      `relay latency (job completed; direct: no-op done -> SendTask* received), ${head}`,
      f(l.direct?.relay),
      f(l.relay),
      ratio(l.direct?.relay, l.relay),
      tgt,
    ]);
    if (l.floor) {
      rows.push([
        `  the same through the design floor (events mode, bench/lib/floor-bridge.ts; got ${fmt(l.floor.achievedRate)}/s): dispatch; relay`,
        '-',
        `${f(l.floor.dispatch)}; ${f(l.floor.relay)}`,
        '-',
        'report',
      ]);
    }
    const b = l.bridgeLoop;
    if (b) {
      const kinds = Object.entries(b.gc)
        .filter(([, g]) => g.count > 0)
        .map(([k, g]) => `${g.count} ${k} ${fmt(g.ms)} ms`)
        .join(', ');
      rows.push([
        `  where the bridge's tail goes at ${l.rate} tasks/s: its event-loop delay; GC pauses over the ${fmt(b.seconds)} s window`,
        '-',
        `delay p99 ${fmt(b.delayP99Ms)} / max ${fmt(b.delayMaxMs)} ms; GC ${fmt(b.gcMsPerSecond)} ms/s (${kinds}; ${b.pausesOver10ms} > 10 ms)`,
        '-',
        'report',
      ]);
    }
  }
  printTable(['figure', 'direct SDK worker', 'bridge', 'ratio', 'target'], rows);
}
