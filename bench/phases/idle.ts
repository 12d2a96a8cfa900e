/**
 * Idle cost: B bindings x P pollers, real 60 s poll hold, no tasks. Bridge CPU (% of one core, from
 * /proc; its main thread's user and system time and its other threads' apart), GetActivityTask calls
 * per poller per minute (emulator counters), and Redis commands per second of the whole (private)
 * server with the top commands, over a window after a warm-up. In the same window, on an emulator of
 * its own, the direct SDK worker parks the same B x P polls: what a hand-written worker costs idle.
 */
import { Spawned, threadCpu } from '../lib/child-process';
import { commandDelta, PrivateRedis } from '../lib/private-redis';
import { cpuOf, Emulator, sleep, startBridge, startDirectWorker } from '../lib/stack';
import { stopGracefully } from './throughput';

export interface IdleCost {
  bindings: number;
  pollers: number;
  seconds: number;
  bridgeCpuPercent: number;
  /** The bridge's CPU split, % of one core: main thread user / system, every other thread. */
  bridgeThreads?: { mainUser: number; mainSystem: number; others: number };
  /** The direct SDK worker with the same polls parked, same window. */
  directCpuPercent?: number;
  directPollsPerPollerPerMinute?: number;
  pollsPerPollerPerMinute: number;
  redisCommandsPerSecond: number;
  topCommands: [string, number][];
  /** CLOCK_MONOTONIC (µs) of the measured window, to cut a --cpu-prof profile to it. */
  monoWindowUs: [number, number];
}

const monoUs = () => Number(process.hrtime.bigint() / 1000n);

export async function idleCost(
  redis: PrivateRedis,
  bindings: number,
  pollers: number,
  warmupSeconds: number,
  seconds: number,
  nodeFlags: string[] = [],
): Promise<IdleCost> {
  const emu = await Emulator.start(60);
  const directEmu = await Emulator.start(60);
  let bridge: Spawned | undefined;
  let direct: Spawned | undefined;
  try {
    const arns: string[] = [];
    const directArns: string[] = [];
    for (let i = 0; i < bindings; i++) arns.push((await emu.activity(`idle-${i}`)).activityArn);
    for (let i = 0; i < bindings; i++) directArns.push((await directEmu.activity(`idle-direct-${i}`)).activityArn);
    direct = await startDirectWorker(directEmu.url, directArns.join(','), pollers);
    bridge = await startBridge({
      redisUrl: redis.url,
      prefix: 'bench-idle',
      sfnUrl: emu.url,
      bindings: arns.map((activityArn, i) => ({ activityArn, queue: `idle-${i}`, pollers, maxPending: 100 })),
      nodeFlags,
    });
    await sleep(warmupSeconds * 1000);
    const pid = bridge.child.pid!;
    const sample = async () => ({
      sfn: await emu.counters(),
      directSfn: await directEmu.counters(),
      redis: await redis.counters(),
      bridgeCpu: cpuOf(bridge!),
      directCpu: cpuOf(direct!),
      threads: threadCpu(pid),
      at: Date.now(),
      mono: monoUs(),
    });
    const { sfn: c0, directSfn: d0, redis: r0, bridgeCpu: p0, directCpu: q0, threads: th0, at: t0, mono: m0 } = await sample();
    await sleep(seconds * 1000);
    const { sfn: c1, directSfn: d1, redis: r1, bridgeCpu: p1, directCpu: q1, threads: th1, at: t1, mono: m1 } = await sample();
    const s = (t1 - t0) / 1000;
    const polls = (c1.calls.GetActivityTask ?? 0) - (c0.calls.GetActivityTask ?? 0);
    const directPolls = (d1.calls.GetActivityTask ?? 0) - (d0.calls.GetActivityTask ?? 0);
    const pct = (a: number, b: number) => ((b - a) / s) * 100;
    const cmds = commandDelta(r0, r1, 10);
    return {
      bindings,
      pollers,
      seconds: s,
      bridgeCpuPercent: pct(p0, p1),
      bridgeThreads: {
        mainUser: pct(th0.mainUser, th1.mainUser),
        mainSystem: pct(th0.mainSystem, th1.mainSystem),
        others: pct(th0.others, th1.others),
      },
      directCpuPercent: pct(q0, q1),
      directPollsPerPollerPerMinute: directPolls / (bindings * pollers) / (s / 60),
      pollsPerPollerPerMinute: polls / (bindings * pollers) / (s / 60),
      redisCommandsPerSecond: cmds.total / s,
      topCommands: cmds.top.map(([k, v]) => [k, v / s] as [string, number]),
      monoWindowUs: [m0, m1],
    };
  } finally {
    // Profiled: a graceful exit, so --cpu-prof writes its profile (the drain waits for the parked
    // polls, up to their 60 s hold). Otherwise killed at once.
    if (bridge && nodeFlags.length) await stopGracefully(bridge, 75_000);
    else bridge?.stop();
    direct?.stop();
    await emu.stop();
    await directEmu.stop();
  }
}
