/**
 * Dispatch and relay latency at a steady rate with many polls parked, from exact per-task
 * timestamps, not histograms:
 *   dispatch = the consumer job's `waiting` event (its Redis stream id: the server's clock, in ms,
 *              when the job became waiting) - the emulator's hand-out time of the token;
 *   relay    = the emulator's close time (SendTaskSuccess received) - the job's `completed` event.
 * The job id is sha256(token), which is also how the emulator's task records are looked up.
 * The same rate runs first through the direct SDK worker (bench/lib/direct-worker.ts, one loop per
 * parked poll), whose counterparts are: dispatch = task in hand - hand-out, relay = close - no-op
 * done. That is this machine's floor at that rate (one HTTP hop each way, the emulator's and the
 * worker's own pauses); the bridge adds a Redis hop each way and its own pauses, which the
 * bridge's event-loop delay and GC pauses over the measured window (its /metrics) show.
 * A warm-up at the same rate runs first and is not measured (a cold bridge opens its sockets to
 * Step Functions and compiles its hot path in the first seconds: relay p99 ~2 s in the first 3 s
 * of a cold 300 tasks/s run, <= 70 ms after).
 */
import IORedis from 'ioredis';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Spawned } from '../lib/child-process';
import { PrivateRedis } from '../lib/private-redis';
import { LoopStats, loopStatsBetween, Scrape, scrapeMetrics } from '../lib/loop-stats';
import { percentile, shareAtMost } from '../lib/stats';
import { EVENT_LOOP_SAMPLE_MS } from '@bridge/metrics';
import { Emulator, sleep, startBridge, startConsumer, startDirectWorker, startFloorBridge, stopAndWait } from '../lib/stack';

export interface Spread {
  p50: number;
  p99: number;
  max: number;
  within10: number;
}

/** One side (direct worker or bridge) at one rate. */
export interface LatencyRun {
  parkedAtStart: number;
  tasks: number;
  achievedRate: number;
  dispatch: Spread;
  relay: Spread;
}

export interface Latency extends LatencyRun {
  rate: number;
  seconds: number;
  warmupSeconds: number;
  direct?: LatencyRun;
  /** The events-mode design floor (bench/lib/floor-bridge.ts) at the same rate. */
  floor?: LatencyRun;
  /** The bridge's event-loop delay and GC pauses over the measured window. */
  bridgeLoop?: LoopStats;
}

/** Reads a stream from `from` every 100 ms, keeping the first id (ms) of each (event, jobId). */
class EventTimes {
  readonly waiting = new Map<string, number>();
  readonly completed = new Map<string, number>();
  private last: string;
  private stopped = false;
  private done: Promise<void>;

  /** Reads entries after `from` (a stream id; the stream's last one skips the warm-up's). */
  constructor(
    private readonly redis: IORedis,
    private readonly key: string,
    from = '0-0',
  ) {
    this.last = from;
    this.done = this.run();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      await this.readOnce();
      await sleep(100);
    }
    await this.readOnce();
  }

  private async readOnce(): Promise<void> {
    for (;;) {
      const entries = await this.redis.xrange(this.key, `(${this.last}`, '+', 'COUNT', 5000);
      for (const [id, fields] of entries) {
        this.last = id;
        const ms = Number(id.slice(0, id.indexOf('-')));
        const ev = fields[fields.indexOf('event') + 1];
        const jobId = fields[fields.indexOf('jobId') + 1];
        if (ev === 'waiting' && !this.waiting.has(jobId)) this.waiting.set(jobId, ms);
        if (ev === 'completed' && !this.completed.has(jobId)) this.completed.set(jobId, ms);
      }
      if (entries.length < 5000) return;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

const summary = (v: number[]): Spread => ({
  p50: percentile(v, 50),
  p99: percentile(v, 99),
  max: percentile(v, 100),
  within10: shareAtMost(v, 10),
});

/** One side's figures from its window and its per-task latencies. */
const runOf = (w: { parked: number; achievedRate: number }, tasks: number, dispatch: number[], relay: number[]): LatencyRun => ({
  parkedAtStart: w.parked,
  tasks,
  achievedRate: w.achievedRate,
  dispatch: summary(dispatch),
  relay: summary(relay),
});

/** Parks `pollers` polls, warms up at `rate`, calls `atStart`, then starts `rate`/s for `seconds` and waits until they closed. */
async function pacedWindow(
  emu: Emulator,
  stateMachineArn: string,
  pollers: number,
  rate: number,
  seconds: number,
  warmupSeconds: number,
  atStart: () => Promise<void>,
): Promise<{ parked: number; started: number; achievedRate: number }> {
  const t0 = Date.now();
  let parked = 0;
  while ((parked = (await emu.counters()).parkedPolls) < pollers && Date.now() - t0 < 10_000) await sleep(100);
  const closed = async () => ((await emu.counters()).closes.succeeded ?? 0) as number;
  const warm = await emu.startPaced(stateMachineArn, rate, warmupSeconds);
  const warmEnd = Date.now();
  while ((await closed()) < warm && Date.now() - warmEnd < 30_000) await sleep(100);
  await atStart();
  const c0 = await closed();
  const started = Date.now();
  const total = await emu.startPaced(stateMachineArn, rate, seconds);
  const paceEnd = Date.now();
  while ((await closed()) - c0 < total && Date.now() - paceEnd < 60_000) await sleep(100);
  const closedIn = (await closed()) - c0;
  return { parked, started, achievedRate: closedIn / ((Date.now() - started) / 1000) };
}

/** The direct SDK worker with one loop per parked poll, at `rate`: the machine's floor. */
export async function directLatencyAt(rate: number, seconds: number, pollers: number, warmupSeconds: number): Promise<LatencyRun> {
  const emu = await Emulator.start(60);
  const file = join(tmpdir(), `bench-direct-latency-${process.pid}-${rate}.json`);
  let worker: Spawned | undefined;
  try {
    const { activityArn, stateMachineArn } = await emu.activity(`lat-direct-${rate}`);
    worker = await startDirectWorker(emu.url, activityArn, pollers, file);
    const w = await pacedWindow(emu, stateMachineArn, pollers, rate, seconds, warmupSeconds, async () => undefined);
    await stopAndWait(worker);
    const noted = (JSON.parse(readFileSync(file, 'utf8')) as { tokenHash: string; inHand: number; done: number }[]).filter(
      (t) => t.inHand >= w.started,
    );
    const records = await emu.taskRecords(noted.map((t) => t.tokenHash));
    const dispatch: number[] = [];
    const relay: number[] = [];
    for (const t of noted) {
      const rec = records.get(t.tokenHash);
      if (rec?.handedOutAt !== undefined) dispatch.push(t.inHand - rec.handedOutAt);
      if (rec?.closedAt !== undefined) relay.push(rec.closedAt - t.done);
    }
    return runOf(w, records.size, dispatch, relay);
  } finally {
    worker?.stop();
    rmSync(file, { force: true });
    await emu.stop();
  }
}

/**
 * A BullMQ side at `rate`: the bridge (with its event-loop and GC figures) or the events-mode design
 * floor (bench/lib/floor-bridge.ts: poll -> SET token + Queue.add -> XREADGROUP completed ->
 * SendTaskSuccess, nothing else), with the no-op consumer, timed from the queue's event stream.
 */
async function queueSideLatency(
  redis: PrivateRedis,
  side: 'bridge' | 'floor',
  rate: number,
  seconds: number,
  pollers: number,
  warmupSeconds: number,
): Promise<LatencyRun & { loop?: LoopStats }> {
  const emu = await Emulator.start(60);
  let proc: Spawned | undefined;
  let consumer: Spawned | undefined;
  const prefix = `bench-lat-${side}-${rate}`;
  const reader = new IORedis(redis.url, { maxRetriesPerRequest: null });
  try {
    const { activityArn, stateMachineArn } = await emu.activity(`lat-${side}-${rate}`);
    consumer = await startConsumer(redis.url, prefix, 'lat', 32);
    const p =
      side === 'bridge'
        ? await startBridge({
            redisUrl: redis.url,
            prefix,
            sfnUrl: emu.url,
            bindings: [{ activityArn, queue: 'lat', pollers, maxPending: 5000 }],
          })
        : await startFloorBridge({
            mode: 'events',
            redisUrl: redis.url,
            prefix,
            sfnUrl: emu.url,
            activityArn,
            queue: 'lat',
            concurrency: pollers,
          });
    proc = p;
    let events: EventTimes | undefined;
    let metricsAtStart: Scrape | undefined;
    const w = await pacedWindow(emu, stateMachineArn, pollers, rate, seconds, warmupSeconds, async () => {
      const [lastEntry] = await reader.xrevrange(`${prefix}:lat:events`, '+', '-', 'COUNT', 1);
      events = new EventTimes(reader, `${prefix}:lat:events`, lastEntry?.[0]);
      // Also resets the bridge's event-loop delay histogram (prom-client resets it on each collect).
      if (side === 'bridge') metricsAtStart = await scrapeMetrics(p);
    });
    const loop = metricsAtStart ? loopStatsBetween(metricsAtStart, await scrapeMetrics(p), EVENT_LOOP_SAMPLE_MS) : undefined;
    await events!.stop();
    const records = await emu.taskRecords([...events!.waiting.keys()]);
    const dispatch: number[] = [];
    const relay: number[] = [];
    for (const [jobId, rec] of records) {
      const wt = events!.waiting.get(jobId);
      const c = events!.completed.get(jobId);
      if (rec.handedOutAt !== undefined && wt !== undefined) dispatch.push(wt - rec.handedOutAt);
      if (rec.closedAt !== undefined && c !== undefined) relay.push(rec.closedAt - c);
    }
    return { ...runOf(w, records.size, dispatch, relay), loop };
  } finally {
    proc?.stop();
    consumer?.stop();
    await reader.quit();
    await emu.stop();
  }
}

/** The direct worker (machine floor), the events design floor and the bridge, one after another, at `rate`. */
export async function latencyAt(
  redis: PrivateRedis,
  rate: number,
  seconds: number,
  pollers: number,
  warmupSeconds: number,
): Promise<Latency> {
  const direct = await directLatencyAt(rate, seconds, pollers, warmupSeconds);
  await redis.flush();
  const { loop: _none, ...floor } = await queueSideLatency(redis, 'floor', rate, seconds, pollers, warmupSeconds);
  await redis.flush();
  const { loop: bridgeLoop, ...bridge } = await queueSideLatency(redis, 'bridge', rate, seconds, pollers, warmupSeconds);
  return { rate, seconds, warmupSeconds, ...bridge, direct, floor, bridgeLoop };
}
