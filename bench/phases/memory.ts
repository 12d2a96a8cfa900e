/**
 * Bridge memory: RSS holding N outstanding tasks with no consumer (all taken from Step Functions,
 * waiting in BullMQ), and RSS sampled during a steady paced run with a no-op consumer.
 */
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { Spawned } from '../lib/child-process';
import { PrivateRedis } from '../lib/private-redis';
import { bridgeHeapMb, Emulator, rssOf, sleep, startBridge, startConsumer } from '../lib/stack';

export async function outstandingRss(
  redis: PrivateRedis,
  tasks: number,
  env: Record<string, string> = {},
): Promise<{
  idleMb: number;
  holdingMb: number;
  held: number;
  seconds: number;
  idleHeap: { usedMb: number; totalMb: number };
  holdingHeap: { usedMb: number; totalMb: number };
}> {
  const emu = await Emulator.start(5);
  let bridge: Spawned | undefined;
  const connection = new IORedis(redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue('held', { connection, prefix: 'bench-mem' });
  try {
    const { activityArn, stateMachineArn } = await emu.activity('held');
    bridge = await startBridge({
      redisUrl: redis.url,
      prefix: 'bench-mem',
      sfnUrl: emu.url,
      bindings: [{ activityArn, queue: 'held', pollers: 32, maxPending: tasks }],
      env,
    });
    await sleep(3_000);
    const idleMb = rssOf(bridge);
    const idleHeap = await bridgeHeapMb(bridge);
    const t0 = Date.now();
    await emu.startMany(stateMachineArn, tasks);
    let held = 0;
    while ((held = await queue.count()) < tasks) {
      if (Date.now() - t0 > 180_000) throw new Error(`only ${held}/${tasks} tasks taken in 180 s`);
      await sleep(250);
    }
    const seconds = (Date.now() - t0) / 1000;
    // Settle, then the peak of a few samples (heartbeats keep running meanwhile).
    await sleep(3_000);
    let holdingMb = 0;
    for (let i = 0; i < 10; i++, await sleep(500)) holdingMb = Math.max(holdingMb, rssOf(bridge));
    return { idleMb, holdingMb, held, seconds, idleHeap, holdingHeap: await bridgeHeapMb(bridge) };
  } finally {
    bridge?.stop();
    await queue.close();
    await connection.quit();
    await emu.stop();
  }
}

export interface SteadyRss {
  rate: number;
  seconds: number;
  achievedRate: number;
  samplesMb: number[];
  /** Least-squares slope of the samples after the first, MB per minute. */
  slopeMbPerMin: number;
}

export async function steadyRss(
  redis: PrivateRedis,
  rate: number,
  seconds: number,
  sampleMs: number,
  env: Record<string, string> = {},
): Promise<SteadyRss> {
  const emu = await Emulator.start(60);
  let bridge: Spawned | undefined;
  let consumer: Spawned | undefined;
  try {
    const { activityArn, stateMachineArn } = await emu.activity('steady');
    consumer = await startConsumer(redis.url, 'bench-steady', 'steady', 32);
    bridge = await startBridge({
      redisUrl: redis.url,
      prefix: 'bench-steady',
      sfnUrl: emu.url,
      bindings: [{ activityArn, queue: 'steady', pollers: 32, maxPending: 5000 }],
      env,
    });
    const samples: [number, number][] = [];
    const t0 = Date.now();
    const sample = () => samples.push([(Date.now() - t0) / 60_000, rssOf(bridge!)]);
    const timer = setInterval(sample, sampleMs);
    const c0 = await emu.counters();
    await emu.startPaced(stateMachineArn, rate, seconds);
    const achieved = ((await emu.counters()).closes.succeeded ?? 0) - (c0.closes.succeeded ?? 0);
    clearInterval(timer);
    sample();
    const pts = samples.slice(1);
    const mx = pts.reduce((s, p) => s + p[0], 0) / pts.length;
    const my = pts.reduce((s, p) => s + p[1], 0) / pts.length;
    const slope = pts.reduce((s, p) => s + (p[0] - mx) * (p[1] - my), 0) / (pts.reduce((s, p) => s + (p[0] - mx) ** 2, 0) || 1);
    return {
      rate,
      seconds,
      achievedRate: achieved / ((Date.now() - t0) / 1000),
      samplesMb: samples.map((s) => s[1]),
      slopeMbPerMin: slope,
    };
  } finally {
    bridge?.stop();
    consumer?.stop();
    await emu.stop();
  }
}
