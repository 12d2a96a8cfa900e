/**
 * sfn-local throughput: GetActivityTask + SendTaskSuccess pairs per second from 50 concurrent
 * keep-alive HTTP/1.1 loops, with the emulator's own CPU (fraction of one core), against a trivial
 * Node echo server under the same client as a baseline. Loopback only, bounded in time.
 *
 *   npm run bench:sfn-local
 *   env: BENCH_SECONDS=5 BENCH_LOOPS=50 BENCH_PRESTART=40000 BENCH_RATE=3000 BENCH_THREADS=1 BENCH_CPU_PROF=<dir>
 *
 * The load generator (lib/load-gen.ts) runs the loops in BENCH_THREADS worker threads. Each loop has
 * its own undici keep-alive connection (pipelining 1, so one request in flight per loop). It does
 * GetActivityTask, then SendTaskSuccess with the token it got, as an SDK activity worker does.
 *
 * Phases (the emulator runs in a child process, so its CPU is measured apart from the load generator):
 *   1. bulk   : BENCH_PRESTART executions started up front with StartExecution (not part of the pair figure)
 *   2. pairs  : the loops do GetActivityTask -> SendTaskSuccess as fast as they can on pre-started tasks
 *   3. paced  : the same loops held to BENCH_RATE pairs/s in total: the emulator CPU that rate costs
 *   4. mixed  : the same loops while 10 more loops keep starting executions (StartExecution included in CPU)
 *   5. echo   : the same loops, 2 POSTs per "pair", against an echo server (the client/loopback ceiling)
 * Verdict: MET if pairs >= BENCH_RATE, the paced phase kept >= 99% of its schedule, and it cost < 1 core.
 */
import { sleep } from '@bridge/common';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { LoadGen } from './lib/load-gen';
import { coreFraction, spawnServer } from './lib/raw-http';
import { LoopConnection } from './lib/undici-loops';

const ROOT = join(__dirname, '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const LOOPS = Number(process.env.BENCH_LOOPS ?? 50);
const PRESTART = Number(process.env.BENCH_PRESTART ?? 40_000);
const THREADS = Math.max(1, Number(process.env.BENCH_THREADS ?? 1));
/** The target rate: the paced phase holds it and measures what it costs the emulator. */
const RATE = Number(process.env.BENCH_RATE ?? 3000);
const PRODUCERS = 10;
/** BENCH_CPU_PROF=<dir>: the emulator writes a V8 CPU profile (.cpuprofile) there when it exits. */
const PROF_DIR = process.env.BENCH_CPU_PROF;

type Cpu = { user: number; system: number };

let clientCpu = process.cpuUsage();

/** Prints one phase: rate, server CPU, the load generator's own CPU (all threads), and rate per server core. */
function report(name: string, count: number, ms: number, cpu: number, unit = 'pairs'): number {
  const rate = (count * 1000) / ms;
  const now = process.cpuUsage();
  const client = coreFraction(clientCpu, now, ms);
  clientCpu = now;
  console.log(
    `${name.padEnd(6)} ${count.toString().padStart(6)} ${unit} in ${(ms / 1000).toFixed(2)} s = ${rate.toFixed(0).padStart(5)} ${unit}/s;` +
      ` server ${cpu.toFixed(2)} core (${(rate / cpu).toFixed(0)} ${unit} per server CPU-second); client ${client.toFixed(2)} core`,
  );
  return rate;
}

const load = () =>
  `load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')} on ${cpus().length} CPUs`;

async function main(): Promise<void> {
  const gen = new LoadGen(THREADS);
  // `node --import tsx` (no tsx CLI wrapper process), so --cpu-prof profiles the emulator itself.
  const prof = PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROF_DIR}`] : [];
  const sfnProc = await spawnServer(
    [...prof, '--import', 'tsx', 'apps/sfn-local/src/main.ts', '--port', '0', '--poll-seconds', '1', '--quiet'],
    ROOT,
  );
  const c = new LoopConnection(sfnProc.url); // setup and /_local/ reads, outside the loops
  const cpuOf = async (conn: LoopConnection, path: string): Promise<Cpu> => (await conn.get(path)).cpu;
  const fail = (what: string, r: { status: number; body: any }) => {
    throw new Error(`${what}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  };
  try {
    console.log(
      `sfn-local at ${sfnProc.url} (pid ${sfnProc.child.pid}); ${LOOPS} loops, each on its own keep-alive HTTP/1.1 connection` +
        ` (undici, pipelining 1), in ${THREADS} client thread(s); ${SECONDS} s per phase; ${load()}`,
    );
    const act = await c.call('CreateActivity', { name: 'bench' });
    if (act.status !== 200) fail('CreateActivity', act);
    const activityArn = act.body.activityArn as string;
    const sm = await c.call('CreateStateMachine', {
      name: 'bench',
      roleArn: 'arn:aws:iam::123456789012:role/bench',
      definition: JSON.stringify({
        StartAt: 'Work',
        States: { Work: { Type: 'Task', Resource: activityArn, HeartbeatSeconds: 60, TimeoutSeconds: 300, End: true } },
      }),
    });
    if (sm.status !== 200) fail('CreateStateMachine', sm);
    const stateMachineArn = sm.body.stateMachineArn as string;
    const input = JSON.stringify({ orderId: 'o-123', items: [1, 2, 3], note: 'x'.repeat(200) });
    const common = { origin: sfnProc.url, activityArn, stateMachineArn, input };

    /** Starts executions until `want` tasks are pending (not measured as pairs); reports the rate if asked. */
    const topUp = async (want: number, name?: string) => {
      const pending = (await c.get('/_local/counters')).pendingTasks as number;
      if (pending >= want) return;
      const t0 = Date.now();
      const cpu0 = await cpuOf(c, '/_local/process');
      clientCpu = process.cpuUsage();
      const n = await gen.run({ ...common, role: 'loop', op: 'start', loops: LOOPS, budget: want - pending, deadline: t0 + 30_000 });
      const ms = Date.now() - t0;
      if (name) report(name, n, ms, coreFraction(cpu0, await cpuOf(c, '/_local/process'), ms), 'starts');
    };

    // 1. bulk pre-start
    await topUp(PRESTART, 'bulk');

    // 2. pairs, as fast as the loops go, on pre-started tasks
    let t0 = Date.now();
    let cpu0 = await cpuOf(c, '/_local/process');
    clientCpu = process.cpuUsage();
    const pairs = await gen.run({ ...common, role: 'loop', op: 'pair', loops: LOOPS, deadline: t0 + SECONDS * 1000 });
    let ms = Date.now() - t0;
    const pairsCpu = coreFraction(cpu0, await cpuOf(c, '/_local/process'), ms);
    const pairRate = report('pairs', pairs, ms, pairsCpu);
    if ((await c.get('/_local/counters')).pendingTasks === 0)
      console.log('        (pre-started tasks ran out: raise BENCH_PRESTART for a full-length phase)');

    // 3. paced: the same loops held to RATE pairs/s in total: what the target rate costs the emulator
    const scheduled = RATE * SECONDS;
    await topUp(scheduled + LOOPS);
    await sleep(200);
    t0 = Date.now();
    cpu0 = await cpuOf(c, '/_local/process');
    clientCpu = process.cpuUsage();
    const paced = await gen.run({ ...common, role: 'loop', op: 'pair', loops: LOOPS, rate: RATE, deadline: t0 + SECONDS * 1000 });
    ms = Date.now() - t0;
    const pacedCpu = coreFraction(cpu0, await cpuOf(c, '/_local/process'), ms);
    const pacedRate = report('paced', paced, ms, pacedCpu);
    console.log(
      `        (${paced} of ${scheduled} scheduled pairs at ${RATE}/s; ${((paced / scheduled) * 100).toFixed(1)}% done within the window)`,
    );

    // 4. mixed: producers keep the queue fed while the consumers run (rate and CPU up to the deadline;
    //    at the end the consumers' polls park until the hold ends, which is not load)
    const counters0 = await c.get('/_local/counters');
    t0 = Date.now();
    cpu0 = await cpuOf(c, '/_local/process');
    clientCpu = process.cpuUsage();
    const mixedMs = Math.min(SECONDS, 4) * 1000;
    const deadline = t0 + mixedMs;
    const cpuAtDeadline = sleep(mixedMs).then(() => cpuOf(c, '/_local/process'));
    const [mixedPairs, mixedStarts] = await Promise.all([
      gen.run({ ...common, role: 'loop', op: 'pair', loops: LOOPS, deadline }),
      gen.run({ ...common, role: 'producer', op: 'start', loops: PRODUCERS, deadline }),
    ]);
    ms = Date.now() - t0;
    const mixedCpu = coreFraction(cpu0, await cpuAtDeadline, mixedMs);
    report('mixed', mixedPairs, mixedMs, mixedCpu);
    console.log(
      `        + ${mixedStarts} StartExecution (${((mixedStarts * 1000) / mixedMs).toFixed(0)}/s) in the same window; loops done after ${(ms / 1000).toFixed(2)} s`,
    );
    const counters = await c.get('/_local/counters');
    const errs = JSON.stringify(counters.errors);
    console.log(
      `        emulator: ${counters.tasksHandedOut - counters0.tasksHandedOut} handed out, errors ${errs}, open tasks ${counters.openTasks}`,
    );
    await c.close();
    sfnProc.child.kill('SIGTERM');

    // 5. baseline: echo server, same client threads, connections per loop and loop shape
    const echo = await spawnServer(['--import', 'tsx', 'bench/lib/echo-server.ts'], ROOT);
    const e = new LoopConnection(echo.url);
    try {
      const echoCommon = { ...common, origin: echo.url };
      await gen.run({ ...echoCommon, role: 'loop', op: 'echoPair', loops: LOOPS, deadline: Date.now() + 500 }); // connect, warm up
      t0 = Date.now();
      cpu0 = await cpuOf(e, '/cpu');
      clientCpu = process.cpuUsage();
      const echoPairs = await gen.run({ ...echoCommon, role: 'loop', op: 'echoPair', loops: LOOPS, deadline: t0 + SECONDS * 1000 });
      ms = Date.now() - t0;
      const echoCpu = coreFraction(cpu0, await cpuOf(e, '/cpu'), ms);
      const echoRate = report('echo', echoPairs, ms, echoCpu);
      const met = pairRate >= RATE && pacedRate >= RATE * 0.99 && pacedCpu < 1;
      console.log(
        `\nsfn-local ${pairRate.toFixed(0)} pairs/s at ${pairsCpu.toFixed(2)} core (${(pairRate / pairsCpu).toFixed(0)} pairs per emulator CPU-second);` +
          ` ${pacedRate.toFixed(0)} pairs/s paced at ${pacedCpu.toFixed(2)} core` +
          `\necho baseline ${echoRate.toFixed(0)} pairs/s at ${echoCpu.toFixed(2)} core (${(echoRate / echoCpu).toFixed(0)} per CPU-second);` +
          ` ratio emulator/echo: ${(pairRate / echoRate).toFixed(2)} in pairs/s, ${(pairRate / pairsCpu / (echoRate / echoCpu)).toFixed(2)} in pairs per CPU-second` +
          `\ntarget >= ${RATE} pairs/s under 1 core: ${met ? 'MET' : 'NOT MET'}; ${load()}`,
      );
    } finally {
      await e.close();
      echo.child.kill('SIGTERM');
    }
  } catch (err) {
    sfnProc.child.kill('SIGTERM');
    throw err;
  } finally {
    await gen.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
