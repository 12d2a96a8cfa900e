/**
 * Idle cost: B bindings x P pollers, real 60 s poll hold, no tasks. Bridge CPU (% of one core, from
 * /proc), GetActivityTask calls per poller per minute (emulator counters), and Redis commands per
 * second of the whole (private) server with the top commands, over a window after a warm-up.
 */
import { Spawned } from '../lib/child-process';
import { commandDelta, PrivateRedis } from '../lib/private-redis';
import { cpuOf, Emulator, sleep, startBridge } from '../lib/stack';
import { stopGracefully } from './throughput';

export interface IdleCost {
  bindings: number;
  pollers: number;
  seconds: number;
  bridgeCpuPercent: number;
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
  let bridge: Spawned | undefined;
  try {
    const arns: string[] = [];
    for (let i = 0; i < bindings; i++) arns.push((await emu.activity(`idle-${i}`)).activityArn);
    bridge = await startBridge({
      redisUrl: redis.url,
      prefix: 'bench-idle',
      sfnUrl: emu.url,
      bindings: arns.map((activityArn, i) => ({ activityArn, queue: `idle-${i}`, pollers, maxPending: 100 })),
      nodeFlags,
    });
    await sleep(warmupSeconds * 1000);
    const [c0, r0, p0, t0, m0] = [await emu.counters(), await redis.counters(), cpuOf(bridge), Date.now(), monoUs()];
    await sleep(seconds * 1000);
    const [c1, r1, p1, t1, m1] = [await emu.counters(), await redis.counters(), cpuOf(bridge), Date.now(), monoUs()];
    const s = (t1 - t0) / 1000;
    const polls = (c1.calls.GetActivityTask ?? 0) - (c0.calls.GetActivityTask ?? 0);
    const cmds = commandDelta(r0, r1, 10);
    return {
      bindings,
      pollers,
      seconds: s,
      bridgeCpuPercent: ((p1 - p0) / s) * 100,
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
    await emu.stop();
  }
}
