/**
 * Throughput and CPU per task, three ways in one run: plain BullMQ (add + no-op worker), a direct
 * AWS SDK activity worker, and the bridge end to end with a no-op consumer. The SFN runs pre-start
 * their executions, then measure the drain from the moment the worker (or bridge) is ready: tasks
 * closed in the window / window, CPU of each process over the same window (/proc; Redis from INFO),
 * Redis commands from `INFO commandstats` deltas.
 */
import { Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { Spawned } from '../lib/child-process';
import { commandDelta, PrivateRedis } from '../lib/private-redis';
import { cpuOf, Emulator, sleep, startBridge, startConsumer, startDirectWorker, startFloorBridge } from '../lib/stack';

const TIME_LIMIT_MS = 180_000;

export interface Throughput {
  tasks: number;
  seconds: number;
  rate: number;
  /** CPU ms per task of the worker (direct) or bridge process. */
  cpuMsPerTask: number;
  consumerCpuMsPerTask?: number;
  redisCpuMsPerTask?: number;
  emulatorCores: number;
  redisCommandsPerTask: number;
  topCommands: [string, number][];
  /** CLOCK_MONOTONIC (µs) of the window, to cut a --cpu-prof profile to it. */
  monoWindowUs: [number, number];
}

const monoUs = () => Number(process.hrtime.bigint() / 1000n);

export async function plainBullmq(
  redis: PrivateRedis,
  tasks: number,
  concurrency: number,
): Promise<{ jobs: number; rate: number; commandsPerJob: number; top: [string, number][] }> {
  const connection = new IORedis(redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue('baseline', { connection, prefix: 'bench-base' });
  let done = 0;
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const worker = new Worker('baseline', async (job) => ({ i: job.data.i, ok: true }), { connection, prefix: 'bench-base', concurrency });
  worker.on('completed', () => ++done === tasks && finish());
  await worker.waitUntilReady();
  const before = await redis.counters();
  const started = Date.now();
  for (let i = 0; i < tasks; i += 500) {
    await queue.addBulk(Array.from({ length: Math.min(500, tasks - i) }, (_, k) => ({ name: 'job', data: { i: i + k } })));
  }
  await finished;
  const seconds = (Date.now() - started) / 1000;
  const cmds = commandDelta(before, await redis.counters());
  await worker.close();
  await queue.close();
  await connection.quit();
  return { jobs: tasks, rate: tasks / seconds, commandsPerJob: cmds.total / tasks, top: cmds.top };
}

async function drainWindow(
  emu: Emulator,
  tasks: number,
  procs: { main: Spawned; consumer?: Spawned },
  redis: PrivateRedis,
): Promise<Throughput> {
  const c0 = await emu.counters();
  const [r0, p0, e0, k0, m0, t0] = [
    await redis.counters(),
    cpuOf(procs.main),
    cpuOf(emu.proc),
    procs.consumer ? cpuOf(procs.consumer) : 0,
    monoUs(),
    Date.now(),
  ];
  let c1 = c0;
  while ((c1.closes.succeeded ?? 0) < tasks) {
    if (Date.now() - t0 > TIME_LIMIT_MS)
      throw new Error(`only ${c1.closes.succeeded ?? 0}/${tasks} tasks done in ${TIME_LIMIT_MS / 1000} s`);
    await sleep(25);
    c1 = await emu.counters();
  }
  const [r1, p1, e1, k1, m1, t1] = [
    await redis.counters(),
    cpuOf(procs.main),
    cpuOf(emu.proc),
    procs.consumer ? cpuOf(procs.consumer) : 0,
    monoUs(),
    Date.now(),
  ];
  const n = (c1.closes.succeeded ?? 0) - (c0.closes.succeeded ?? 0);
  const seconds = (t1 - t0) / 1000;
  const cmds = commandDelta(r0, r1);
  return {
    tasks: n,
    seconds,
    rate: n / seconds,
    cpuMsPerTask: ((p1 - p0) * 1000) / n,
    consumerCpuMsPerTask: procs.consumer ? ((k1 - k0) * 1000) / n : undefined,
    redisCpuMsPerTask: ((r1.cpuSeconds - r0.cpuSeconds) * 1000) / n,
    emulatorCores: (e1 - e0) / seconds,
    redisCommandsPerTask: cmds.total / n,
    topCommands: cmds.top,
    monoWindowUs: [m0, m1],
  };
}

export async function directWorker(redis: PrivateRedis, tasks: number, concurrency: number): Promise<Throughput> {
  const emu = await Emulator.start(5);
  let worker: Spawned | undefined;
  try {
    const { activityArn, stateMachineArn } = await emu.activity('direct');
    await emu.startMany(stateMachineArn, tasks);
    worker = await startDirectWorker(emu.url, activityArn, concurrency);
    return await drainWindow(emu, tasks, { main: worker }, redis);
  } finally {
    worker?.stop();
    await emu.stop();
  }
}

export function bridgeEndToEnd(
  redis: PrivateRedis,
  tasks: number,
  concurrency: number,
  opts: { env?: Record<string, string>; nodeFlags?: string[] } = {},
): Promise<Throughput> {
  return drainThrough(redis, tasks, concurrency, 'bridge', 'bench-e2e', (activityArn, sfnUrl) =>
    startBridge({
      redisUrl: redis.url,
      prefix: 'bench-e2e',
      sfnUrl,
      env: { RELAY_CONCURRENCY: String(concurrency), ...opts.env },
      nodeFlags: opts.nodeFlags,
      bindings: [{ activityArn, queue: 'bench', pollers: concurrency, maxPending: tasks + concurrency }],
    }),
  );
}

/**
 * The design floor: bench/lib/floor-bridge.ts (the least a BullMQ-backed bridge does per task, in
 * the former two-job shape or relaying from the queue's event stream) with the same no-op consumer.
 */
export function floorBridge(
  redis: PrivateRedis,
  tasks: number,
  concurrency: number,
  mode: 'flow' | 'events',
  nodeFlags: string[] = [],
): Promise<Throughput> {
  return drainThrough(redis, tasks, concurrency, `floor-${mode}`, 'bench-floor', (activityArn, sfnUrl) =>
    startFloorBridge({ mode, redisUrl: redis.url, prefix: 'bench-floor', sfnUrl, activityArn, queue: 'bench', concurrency, nodeFlags }),
  );
}

/** Pre-starts `tasks` executions, then drains them through `start`'s process and the no-op consumer on queue `bench`. */
async function drainThrough(
  redis: PrivateRedis,
  tasks: number,
  concurrency: number,
  activity: string,
  prefix: string,
  start: (activityArn: string, sfnUrl: string) => Promise<Spawned>,
): Promise<Throughput> {
  const emu = await Emulator.start(5);
  let main: Spawned | undefined;
  let consumer: Spawned | undefined;
  try {
    const { activityArn, stateMachineArn } = await emu.activity(activity);
    await emu.startMany(stateMachineArn, tasks);
    consumer = await startConsumer(redis.url, prefix, 'bench', concurrency);
    main = await start(activityArn, emu.url);
    return await drainWindow(emu, tasks, { main, consumer }, redis);
  } finally {
    if (main) await stopGracefully(main, 15_000);
    consumer?.stop();
    await emu.stop();
  }
}

/** SIGTERM and wait for the exit (so --cpu-prof writes its profile); SIGKILL after `ms`. */
export async function stopGracefully(p: Spawned, ms: number): Promise<void> {
  if (p.child.exitCode !== null) return;
  const exited = new Promise<void>((r) => p.child.once('exit', () => r()));
  p.child.kill('SIGTERM');
  await Promise.race([exited, sleep(ms)]);
  p.stop();
}
