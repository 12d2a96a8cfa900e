/**
 * sfn-local throughput: GetActivityTask + SendTaskSuccess pairs per second from 50 concurrent
 * raw keep-alive HTTP loops, with the emulator's own CPU (fraction of one core), against a trivial
 * Node echo server under the same client as a baseline. Loopback only, bounded in time.
 *
 *   npm run bench:sfn-local            (env: BENCH_SECONDS=5 BENCH_LOOPS=50 BENCH_PRESTART=30000)
 *
 * Phases (emulator in a child process, so its CPU is measured apart from the load generator):
 *   1. bulk   : BENCH_PRESTART executions started up front with StartExecution (not part of the pair figure)
 *   2. pairs  : 50 loops of GetActivityTask -> SendTaskSuccess on the pre-started tasks
 *   3. mixed  : the same 50 loops while 10 more loops keep starting executions (StartExecution included in CPU)
 *   4. echo   : the same 50 loops, 2 POSTs per "pair", against an echo server (the client/loopback ceiling)
 */
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { coreFraction, RawClient, spawnServer } from './lib/raw-http';

const ROOT = join(__dirname, '..');
const TSX = join(ROOT, 'node_modules/tsx/dist/cli.mjs');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const LOOPS = Number(process.env.BENCH_LOOPS ?? 50);
const PRESTART = Number(process.env.BENCH_PRESTART ?? 30_000);
const PRODUCERS = 10;

type Cpu = { user: number; system: number };

async function cpuOf(c: RawClient, path: string): Promise<Cpu> {
  const r = await c.get(path);
  return r.cpu;
}

/** Runs `loops` copies of `body` until `deadline` or `stop()`; returns completed iterations. */
async function runLoops(loops: number, deadline: number, body: () => Promise<boolean>): Promise<number> {
  let n = 0;
  await Promise.all(
    Array.from({ length: loops }, async () => {
      while (Date.now() < deadline) {
        if (!(await body())) return;
        n++;
      }
    }),
  );
  return n;
}

let clientCpu = process.cpuUsage();

/** Prints one phase: rate, server CPU, the load generator's own CPU, and rate per server core. */
function report(name: string, count: number, ms: number, cpu: number, unit = 'pairs'): number {
  const rate = (count * 1000) / ms;
  const now = process.cpuUsage();
  const client = coreFraction(clientCpu, now, ms);
  clientCpu = now;
  console.log(
    `${name.padEnd(6)} ${count.toString().padStart(6)} ${unit} in ${(ms / 1000).toFixed(2)} s = ${rate.toFixed(0).padStart(5)} ${unit}/s;` +
      ` server ${cpu.toFixed(2)} core (${(rate / cpu).toFixed(0)} ${unit} per server core-second); client ${client.toFixed(2)} core`,
  );
  return rate;
}

const load = () => `load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} on ${cpus().length} CPUs`;

async function main(): Promise<void> {
  const sfnProc = await spawnServer([TSX, 'apps/sfn-local/src/main.ts', '--port', '0', '--poll-seconds', '1', '--quiet'], ROOT);
  const c = new RawClient(sfnProc.url, LOOPS + PRODUCERS + 4);
  const fail = (what: string, r: { status: number; body: any }) => {
    throw new Error(`${what}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  };
  try {
    console.log(`sfn-local at ${sfnProc.url} (pid ${sfnProc.child.pid}); ${LOOPS} loops, ${SECONDS} s per phase; ${load()}`);
    const act = await c.call('CreateActivity', { name: 'bench' });
    const activityArn = act.body.activityArn as string;
    const sm = await c.call('CreateStateMachine', {
      name: 'bench', roleArn: 'arn:aws:iam::123456789012:role/bench',
      definition: JSON.stringify({ StartAt: 'Work', States: { Work: { Type: 'Task', Resource: activityArn, HeartbeatSeconds: 60, TimeoutSeconds: 300, End: true } } }),
    });
    const stateMachineArn = sm.body.stateMachineArn as string;
    const input = JSON.stringify({ orderId: 'o-123', items: [1, 2, 3], note: 'x'.repeat(200) });
    const start = async () => {
      const r = await c.call('StartExecution', { stateMachineArn, input });
      if (r.status !== 200) fail('StartExecution', r);
      return true;
    };
    let outputSeq = 0;
    const pair = async () => {
      const t = await c.call('GetActivityTask', { activityArn, workerName: 'bench' });
      if (t.status !== 200) fail('GetActivityTask', t);
      if (!t.body.taskToken) return false; // queue drained
      const s = await c.call('SendTaskSuccess', { taskToken: t.body.taskToken, output: `{"ok":${++outputSeq}}` });
      if (s.status !== 200) fail('SendTaskSuccess', s);
      return true;
    };

    // 1. bulk pre-start
    let left = PRESTART;
    let t0 = Date.now();
    let cpu0 = await cpuOf(c, '/_local/process');
    clientCpu = process.cpuUsage();
    const started = await runLoops(LOOPS, t0 + 10_000, async () => left-- > 0 && start());
    let ms = Date.now() - t0;
    report('bulk', started, ms, coreFraction(cpu0, await cpuOf(c, '/_local/process'), ms), 'starts');

    // 2. pairs on pre-started tasks
    t0 = Date.now();
    cpu0 = await cpuOf(c, '/_local/process');
    const pairs = await runLoops(LOOPS, t0 + SECONDS * 1000, pair);
    ms = Date.now() - t0;
    const pairsCpu = coreFraction(cpu0, await cpuOf(c, '/_local/process'), ms);
    const pairRate = report('pairs', pairs, ms, pairsCpu);
    if (pairs >= started - LOOPS) console.log('        (pre-started tasks ran out: raise BENCH_PRESTART for a full-length phase)');

    // 3. mixed: producers keep the queue fed while the consumers run
    const counters0 = await c.get('/_local/counters');
    t0 = Date.now();
    cpu0 = await cpuOf(c, '/_local/process');
    const deadline = t0 + Math.min(SECONDS, 4) * 1000;
    const [mixedPairs, mixedStarts] = await Promise.all([runLoops(LOOPS, deadline, pair), runLoops(PRODUCERS, deadline, start)]);
    ms = Date.now() - t0;
    const mixedCpu = coreFraction(cpu0, await cpuOf(c, '/_local/process'), ms);
    report('mixed', mixedPairs, ms, mixedCpu);
    console.log(`        + ${mixedStarts} StartExecution (${((mixedStarts * 1000) / ms).toFixed(0)}/s) in the same window`);
    const counters = await c.get('/_local/counters');
    const errs = JSON.stringify(counters.errors);
    console.log(`        emulator: ${counters.tasksHandedOut - counters0.tasksHandedOut} handed out, errors ${errs}, open tasks ${counters.openTasks}`);
    c.close();
    sfnProc.child.kill('SIGTERM');

    // 4. baseline: echo server, same client and loop shape
    const echo = await spawnServer([TSX, 'bench/lib/echo-server.ts'], ROOT);
    const e = new RawClient(echo.url, LOOPS + 4);
    try {
      const fakeToken = 'A'.repeat(684);
      const echoPair = async () => {
        await e.call('GetActivityTask', { activityArn, workerName: 'bench' });
        await e.call('SendTaskSuccess', { taskToken: fakeToken, output: '{"ok":1}' });
        return true;
      };
      t0 = Date.now();
      cpu0 = await cpuOf(e, '/cpu');
      clientCpu = process.cpuUsage();
      const echoPairs = await runLoops(LOOPS, t0 + Math.min(SECONDS, 4) * 1000, echoPair);
      ms = Date.now() - t0;
      const echoRate = report('echo', echoPairs, ms, coreFraction(cpu0, await cpuOf(e, '/cpu'), ms));
      console.log(`\nsfn-local pairs/s = ${pairRate.toFixed(0)} (${((pairRate / echoRate) * 100).toFixed(0)}% of the echo baseline ${echoRate.toFixed(0)}/s) at ${pairsCpu.toFixed(2)} core;` +
        ` target >= 3000 pairs/s under 1 core: ${pairRate >= 3000 && pairsCpu < 1 ? 'MET' : 'NOT MET'}; ${load()}`);
    } finally {
      e.close();
      echo.child.kill('SIGTERM');
    }
  } catch (err) {
    sfnProc.child.kill('SIGTERM');
    throw err;
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
