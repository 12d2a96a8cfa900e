/**
 * `npm run bench`: what a task through the bridge costs against a hand-written AWS SDK activity
 * worker (and plain BullMQ), measured in ONE run on loopback against the project's emulator and a
 * private redis-server, printed as one table (issue 9's rows) and written as JSON to bench/results/.
 *
 * Phases (BENCH_PHASES=comma list to pick; default all):
 *   baseline  plain BullMQ addBulk + no-op worker: jobs/s, Redis commands per job
 *   direct    direct SDK worker (poll, no-op, SendTaskSuccess), BENCH_CONCURRENCY loops, pre-started tasks
 *   bridge    the bridge end to end (BENCH_CONCURRENCY pollers / relay concurrency) + a no-op consumer
 *             (direct and bridge run in BENCH_ROUNDS alternating rounds, 3 by default; the table shows
 *             medians and every round's ratios, bench/lib/rounds.ts says why)
 *   floorFlow, floorEvents  (not in the default set) the design floor, bench/lib/floor-bridge.ts:
 *             the least a BullMQ-backed bridge does per task, the former two-job shape / relaying from
 *             the queue's event stream, with the same consumer
 *   held      bridge RSS holding BENCH_HELD outstanding tasks, no consumer
 *   steady    bridge RSS every BENCH_STEADY_SAMPLE_SECONDS in a BENCH_STEADY_RATE tasks/s run of BENCH_STEADY_SECONDS
 *   idle      BENCH_IDLE_BINDINGS x BENCH_IDLE_POLLERS, 60 s polls, no tasks, over BENCH_IDLE_SECONDS
 *   latency   dispatch and relay latency at 300 and 150 tasks/s (BENCH_LATENCY_SECONDS each) with
 *             BENCH_LATENCY_POLLERS polls parked, after BENCH_LATENCY_WARMUP_SECONDS (5) at the same rate, not measured
 * Other env: BENCH_TASKS (3000), BENCH_CPU_PROF=<dir> (the bridge phase's bridge runs with --cpu-prof;
 * the busy window is written next to it for bench/profile-summary.ts; the idle phase's bridge writes
 * to <dir>/idle with idle-window.json), BENCH_BRIDGE_ENV='{"K":"V"}', BENCH_BRIDGE_NODE_FLAGS (instead of BRIDGE_NODE_FLAGS; '' for none).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { PrivateRedis } from './lib/private-redis';
import { printRows } from './lib/report';
import { idleCost } from './phases/idle';
import { latencyAt } from './phases/latency';
import { outstandingRss, steadyRss } from './phases/memory';
import { medianThroughput, Round } from './lib/rounds';
import { bridgeEndToEnd, directWorker, floorBridge, plainBullmq, Throughput } from './phases/throughput';

const env = (k: string, d: number) => Number(process.env[k] ?? d);
const opts = {
  tasks: env('BENCH_TASKS', 3000),
  rounds: env('BENCH_ROUNDS', 3),
  concurrency: env('BENCH_CONCURRENCY', 32),
  held: env('BENCH_HELD', 10_000),
  steadyRate: env('BENCH_STEADY_RATE', 100),
  steadySeconds: env('BENCH_STEADY_SECONDS', 120),
  steadySampleSeconds: env('BENCH_STEADY_SAMPLE_SECONDS', 30),
  idleBindings: env('BENCH_IDLE_BINDINGS', 10),
  idlePollers: env('BENCH_IDLE_POLLERS', 10),
  // Idle means a bridge that has settled: in its first minute V8 is still optimising and shrinking
  // the heap it grew at start (measured: 1.13-1.32 % of a core after 10 s, 0.73-0.88 % after 90 s).
  idleWarmupSeconds: env('BENCH_IDLE_WARMUP_SECONDS', 90),
  idleSeconds: env('BENCH_IDLE_SECONDS', 60),
  latencySeconds: env('BENCH_LATENCY_SECONDS', 20),
  latencyPollers: env('BENCH_LATENCY_POLLERS', 200),
  latencyWarmupSeconds: env('BENCH_LATENCY_WARMUP_SECONDS', 5),
};
const PHASES = new Set((process.env.BENCH_PHASES ?? 'baseline,direct,bridge,held,steady,idle,latency').split(','));
const PROF_DIR = process.env.BENCH_CPU_PROF;
const BRIDGE_ENV = JSON.parse(process.env.BENCH_BRIDGE_ENV ?? '{}') as Record<string, string>;

const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

async function main(): Promise<void> {
  const machine = { cores: cpus().length, cpu: cpus()[0]?.model, node: process.version, loadAtStart: load() };
  console.log(`bench: ${machine.cores} cores (${machine.cpu}), Node ${machine.node}, load ${machine.loadAtStart}; ${JSON.stringify(opts)}`);
  const redis = await PrivateRedis.start();
  const results: Record<string, unknown> = { machine, opts, bridgeEnv: BRIDGE_ENV, startedAt: new Date().toISOString() };
  const phase = async <T>(name: string, run: () => Promise<T>, label = name): Promise<T | undefined> => {
    if (!PHASES.has(name)) return undefined;
    await redis.flush();
    const t0 = Date.now();
    process.stdout.write(`  ${label} ... `);
    const r = await run();
    console.log(`${((Date.now() - t0) / 1000).toFixed(0)} s (load ${load()})`);
    results[name] = r;
    return r;
  };
  try {
    await phase('baseline', () => plainBullmq(redis, opts.tasks, opts.concurrency));
    // A profile covers one bridge run: one round then.
    const prof = PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROF_DIR}`] : [];
    const rounds: Round[] = [];
    const count = PROF_DIR ? 1 : Math.max(1, opts.rounds);
    for (let i = 1; i <= count; i++) {
      const direct = await phase('direct', () => directWorker(redis, opts.tasks, opts.concurrency), `direct ${i}/${count}`);
      const bridge = await phase(
        'bridge',
        () => bridgeEndToEnd(redis, opts.tasks, opts.concurrency, { env: BRIDGE_ENV, nodeFlags: prof }),
        `bridge ${i}/${count}`,
      );
      if (PROF_DIR && bridge) writeFileSync(join(PROF_DIR, 'busy-window.json'), JSON.stringify({ monoWindowUs: bridge.monoWindowUs }));
      if (direct || bridge) rounds.push({ direct, bridge });
    }
    if (rounds.length) {
      const runs = (side: keyof Round) => rounds.map((r) => r[side]).filter((t): t is Throughput => t !== undefined);
      Object.assign(results, { rounds, direct: medianThroughput(runs('direct')), bridge: medianThroughput(runs('bridge')) });
    }
    for (const [name, mode] of [
      ['floorFlow', 'flow'],
      ['floorEvents', 'events'],
    ] as const) {
      const dir = PROF_DIR && join(PROF_DIR, name);
      if (dir) mkdirSync(dir, { recursive: true });
      const floor = await phase(name, () =>
        floorBridge(redis, opts.tasks, opts.concurrency, mode, dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : []),
      );
      if (dir && floor) writeFileSync(join(dir, 'busy-window.json'), JSON.stringify({ monoWindowUs: floor.monoWindowUs }));
    }
    await phase('held', () => outstandingRss(redis, opts.held, BRIDGE_ENV));
    await phase('steady', () => steadyRss(redis, opts.steadyRate, opts.steadySeconds, opts.steadySampleSeconds * 1000, BRIDGE_ENV));
    if (PROF_DIR) mkdirSync(join(PROF_DIR, 'idle'), { recursive: true });
    const idleProf = PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${join(PROF_DIR, 'idle')}`] : [];
    const idle = await phase('idle', () =>
      idleCost(redis, opts.idleBindings, opts.idlePollers, opts.idleWarmupSeconds, opts.idleSeconds, idleProf),
    );
    if (PROF_DIR && idle) writeFileSync(join(PROF_DIR, 'idle', 'idle-window.json'), JSON.stringify({ monoWindowUs: idle.monoWindowUs }));
    await phase('latency', async () => [
      await latencyAt(redis, 300, opts.latencySeconds, opts.latencyPollers, opts.latencyWarmupSeconds),
      await latencyAt(redis, 150, opts.latencySeconds, opts.latencyPollers, opts.latencyWarmupSeconds),
    ]);
  } finally {
    await redis.stop();
  }
  results.loadAtEnd = load();
  console.log();
  printRows(results as never);
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  console.log(
    `\n${machine.cores} cores, Node ${machine.node}, load at start ${machine.loadAtStart}, at end ${results.loadAtEnd}; JSON: ${file}`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
