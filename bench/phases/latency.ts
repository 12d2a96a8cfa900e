/**
 * Dispatch and relay latency at a steady rate with many polls parked, from exact per-task
 * timestamps, not histograms:
 *   dispatch = the consumer job's `waiting` event (its Redis stream id: the server's clock, in ms,
 *              when the job became waiting) - the emulator's hand-out time of the token;
 *   relay    = the emulator's close time (SendTaskSuccess received) - the job's `completed` event.
 * The job id is sha256(token), which is also how the emulator's task records are looked up.
 * A warm-up at the same rate runs first and is not measured (a cold bridge opens its sockets to
 * Step Functions and compiles its hot path in the first seconds: relay p99 ~2 s in the first 3 s
 * of a cold 300 tasks/s run, <= 70 ms after).
 */
import IORedis from 'ioredis';
import { Spawned } from '../lib/child-process';
import { PrivateRedis } from '../lib/private-redis';
import { percentile, shareAtMost } from '../lib/stats';
import { Emulator, sleep, startBridge, startConsumer } from '../lib/stack';

export interface Latency {
  rate: number;
  seconds: number;
  parkedAtStart: number;
  warmupSeconds: number;
  tasks: number;
  achievedRate: number;
  dispatch: { p50: number; p99: number; max: number; within10: number };
  relay: { p50: number; p99: number; max: number; within10: number };
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

const summary = (v: number[]) => ({
  p50: percentile(v, 50),
  p99: percentile(v, 99),
  max: percentile(v, 100),
  within10: shareAtMost(v, 10),
});

export async function latencyAt(
  redis: PrivateRedis,
  rate: number,
  seconds: number,
  pollers: number,
  warmupSeconds: number,
): Promise<Latency> {
  const emu = await Emulator.start(60);
  let bridge: Spawned | undefined;
  let consumer: Spawned | undefined;
  const prefix = `bench-lat${rate}`;
  const reader = new IORedis(redis.url, { maxRetriesPerRequest: null });
  try {
    const { activityArn, stateMachineArn } = await emu.activity(`lat-${rate}`);
    consumer = await startConsumer(redis.url, prefix, 'lat', 32);
    bridge = await startBridge({
      redisUrl: redis.url,
      prefix,
      sfnUrl: emu.url,
      bindings: [{ activityArn, queue: 'lat', pollers, maxPending: 5000 }],
    });
    const t0 = Date.now();
    let parked = 0;
    while ((parked = (await emu.counters()).parkedPolls) < pollers && Date.now() - t0 < 10_000) await sleep(100);
    const closed = async () => (await emu.counters()).closes.succeeded ?? 0;
    const warm = await emu.startPaced(stateMachineArn, rate, warmupSeconds);
    const warmEnd = Date.now();
    while ((await closed()) < warm && Date.now() - warmEnd < 30_000) await sleep(100);
    const [lastEntry] = await reader.xrevrange(`${prefix}:lat:events`, '+', '-', 'COUNT', 1);
    const events = new EventTimes(reader, `${prefix}:lat:events`, lastEntry?.[0]);
    const c0 = await emu.counters();
    const started = Date.now();
    const total = await emu.startPaced(stateMachineArn, rate, seconds);
    const paceEnd = Date.now();
    while (((await emu.counters()).closes.succeeded ?? 0) - (c0.closes.succeeded ?? 0) < total && Date.now() - paceEnd < 60_000)
      await sleep(100);
    const closedIn = ((await emu.counters()).closes.succeeded ?? 0) - (c0.closes.succeeded ?? 0);
    const achievedRate = closedIn / ((Date.now() - started) / 1000);
    await events.stop();
    const records = await emu.taskRecords([...events.waiting.keys()]);
    const dispatch: number[] = [];
    const relay: number[] = [];
    for (const [jobId, rec] of records) {
      const w = events.waiting.get(jobId);
      const c = events.completed.get(jobId);
      if (rec.handedOutAt !== undefined && w !== undefined) dispatch.push(w - rec.handedOutAt);
      if (rec.closedAt !== undefined && c !== undefined) relay.push(rec.closedAt - c);
    }
    return {
      rate,
      seconds,
      parkedAtStart: parked,
      warmupSeconds,
      tasks: records.size,
      achievedRate,
      dispatch: summary(dispatch),
      relay: summary(relay),
    };
  } finally {
    bridge?.stop();
    consumer?.stop();
    await reader.quit();
    await emu.stop();
  }
}
