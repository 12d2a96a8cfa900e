/**
 * The processes of one bench phase: the emulator, the bridge, the no-op consumer and the direct SDK
 * worker, each a child process (CPU and RSS from /proc), plus the calls that set up activities and
 * start executions (undici keep-alive loops: cheap, so the bench process does not steal the CPU
 * it measures).
 */
import { BRIDGE_NODE_FLAGS } from '@bridge/common';
import { join } from 'node:path';
import { procStats, spawnReady, Spawned } from './child-process';
import { LoopConnection } from './undici-loops';

const ROOT = join(__dirname, '..', '..');
const TSX = ['--import', 'tsx'];
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Emulator {
  private readonly conns: LoopConnection[] = [];

  private constructor(
    readonly proc: Spawned,
    readonly url: string,
  ) {}

  static async start(pollSeconds: number): Promise<Emulator> {
    const proc = await spawnReady(
      'sfn-local',
      [join(ROOT, 'dist/apps/sfn-local/main.js'), '--port', '0', '--poll-seconds', String(pollSeconds), '--quiet'],
      {},
      /listening on (http:\/\/\S+)/,
    );
    return new Emulator(proc, proc.match[1]);
  }

  private conn(i: number): LoopConnection {
    while (this.conns.length <= i) this.conns.push(new LoopConnection(this.url));
    return this.conns[i];
  }

  async call(target: string, body: unknown, i = 0): Promise<any> {
    const r = await this.conn(i).call(target, body);
    if (r.status !== 200) throw new Error(`${target}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  async get(path: string): Promise<any> {
    return this.conn(0).get(path);
  }

  /** One activity and a one-state machine on it. */
  async activity(name: string): Promise<{ activityArn: string; stateMachineArn: string }> {
    const { activityArn } = await this.call('CreateActivity', { name });
    const { stateMachineArn } = await this.call('CreateStateMachine', {
      name,
      roleArn: 'arn:aws:iam::123456789012:role/bench',
      definition: JSON.stringify({ StartAt: 'W', States: { W: { Type: 'Task', Resource: activityArn, TimeoutSeconds: 3600, End: true } } }),
    });
    return { activityArn, stateMachineArn };
  }

  /** Starts `count` executions as fast as 16 loops go. */
  async startMany(stateMachineArn: string, count: number, from = 0): Promise<void> {
    let next = from;
    const end = from + count;
    await Promise.all(
      Array.from({ length: 16 }, async (_, c) => {
        while (next < end) {
          const i = next++;
          await this.call('StartExecution', { stateMachineArn, input: JSON.stringify({ i }) }, c + 1);
        }
      }),
    );
  }

  /** Starts executions at `rate`/s for `seconds` (slots on a fixed schedule; a late slot does not wait). */
  async startPaced(stateMachineArn: string, rate: number, seconds: number): Promise<number> {
    const t0 = Date.now();
    const total = Math.round(rate * seconds);
    let next = 0;
    const loops = Math.max(4, Math.ceil(rate / 50));
    await Promise.all(
      Array.from({ length: loops }, async (_, c) => {
        while (next < total) {
          const i = next++;
          const wait = t0 + (i * 1000) / rate - Date.now();
          if (wait > 0) await sleep(wait);
          await this.call('StartExecution', { stateMachineArn, input: JSON.stringify({ i }) }, c + 20);
        }
      }),
    );
    return total;
  }

  async counters(): Promise<any> {
    return this.get('/_local/counters');
  }

  /** Task records by token hash (= job id), fetched 16 at a time. */
  async taskRecords(hashes: string[]): Promise<Map<string, { handedOutAt?: number; closedAt?: number }>> {
    const out = new Map<string, { handedOutAt?: number; closedAt?: number }>();
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async (_, c) => {
        while (next < hashes.length) {
          const h = hashes[next++];
          const r = await this.conn(c + 1).callPath('/_local/tasks', { tokenHash: h });
          const t = r.body.tasks?.[0];
          if (t) out.set(h, t);
        }
      }),
    );
    return out;
  }

  async stop(): Promise<void> {
    await Promise.all(this.conns.map((c) => c.close().catch(() => undefined)));
    this.proc.stop();
  }
}

export interface BridgeBinding {
  activityArn: string;
  queue: string;
  pollers: number;
  maxPending: number;
}

/** BRIDGE_NODE_FLAGS, or for an A/B run BENCH_BRIDGE_NODE_FLAGS (space-separated; '' for none). */
function shippedFlags(): readonly string[] {
  const own = process.env.BENCH_BRIDGE_NODE_FLAGS;
  return own === undefined ? BRIDGE_NODE_FLAGS : own.split(' ').filter(Boolean);
}

/** The built bridge (dist/apps/bridge/main.js, or BENCH_BRIDGE_MAIN), run as it ships (BRIDGE_NODE_FLAGS) plus extra node flags (e.g. --cpu-prof). */
export function startBridge(opts: {
  redisUrl: string;
  prefix: string;
  sfnUrl: string;
  bindings: BridgeBinding[];
  env?: Record<string, string>;
  nodeFlags?: string[];
}): Promise<Spawned> {
  const main = process.env.BENCH_BRIDGE_MAIN ?? join(ROOT, 'dist/apps/bridge/main.js');
  return spawnReady(
    'bridge',
    [...shippedFlags(), ...(opts.nodeFlags ?? []), main],
    {
      REDIS_URL: opts.redisUrl,
      BULLMQ_PREFIX: opts.prefix,
      PORT: '0',
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_SFN: opts.sfnUrl,
      AWS_ACCESS_KEY_ID: 'x',
      AWS_SECRET_ACCESS_KEY: 'x',
      LOG_LEVEL: 'info',
      BRIDGE_BINDINGS: JSON.stringify({ bindings: opts.bindings }),
      ...opts.env,
    },
    /Listening on [^\s]*:(\d+)/,
  );
}

/** V8 heap used and total (MB) of a bridge, from its /metrics (Node default metrics). */
export async function bridgeHeapMb(bridge: Spawned): Promise<{ usedMb: number; totalMb: number }> {
  const text = await (await fetch(`http://127.0.0.1:${bridge.match[1]}/metrics`)).text();
  const num = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN) / 2 ** 20;
  return { usedMb: num('nodejs_heap_size_used_bytes'), totalMb: num('nodejs_heap_size_total_bytes') };
}

export function startConsumer(redisUrl: string, prefix: string, queue: string, concurrency: number): Promise<Spawned> {
  return spawnReady(
    'consumer',
    [...TSX, join(__dirname, 'noop-consumer.ts')],
    {
      REDIS_URL: redisUrl,
      BULLMQ_PREFIX: prefix,
      QUEUE: queue,
      BENCH_CONCURRENCY: String(concurrency),
    },
    /consumer ready/,
  );
}

/** The direct SDK worker; with `latencyFile` it writes its per-task times there when stopped by `stopAndWait`. */
export function startDirectWorker(sfnUrl: string, activityArn: string, concurrency: number, latencyFile?: string): Promise<Spawned> {
  return spawnReady(
    'direct worker',
    [...TSX, join(__dirname, 'direct-worker.ts')],
    {
      SFN_ENDPOINT: sfnUrl,
      ACTIVITY_ARN: activityArn,
      BENCH_CONCURRENCY: String(concurrency),
      ...(latencyFile ? { LATENCY_FILE: latencyFile } : {}),
    },
    /direct worker ready/,
  );
}

/** SIGTERM, then waits (up to `ms`) for the child to exit; fails saying so if it does not. */
export async function stopAndWait(p: Spawned, ms = 10_000): Promise<void> {
  if (p.child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => p.child.once('exit', () => resolve()));
  p.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`pid ${p.child.pid} still running ${ms} ms after SIGTERM`)), ms);
  });
  try {
    await Promise.race([exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** CPU seconds of a child so far (from /proc). */
export const cpuOf = (p: Spawned): number => procStats(p.child.pid!).cpuSeconds;
export const rssOf = (p: Spawned): number => procStats(p.child.pid!).rssMb;
export { sleep };

/** bench/lib/floor-bridge.ts in `mode` (flow | events): the least a BullMQ-backed bridge does per task. */
export function startFloorBridge(opts: {
  mode: 'flow' | 'events';
  redisUrl: string;
  prefix: string;
  sfnUrl: string;
  activityArn: string;
  queue: string;
  concurrency: number;
  nodeFlags?: string[];
}): Promise<Spawned> {
  return spawnReady(
    `floor bridge (${opts.mode})`,
    [...(opts.nodeFlags ?? []), ...TSX, join(__dirname, 'floor-bridge.ts')],
    {
      FLOOR_MODE: opts.mode,
      REDIS_URL: opts.redisUrl,
      BULLMQ_PREFIX: opts.prefix,
      QUEUE: opts.queue,
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_SFN: opts.sfnUrl,
      AWS_ACCESS_KEY_ID: 'x',
      AWS_SECRET_ACCESS_KEY: 'x',
      ACTIVITY_ARN: opts.activityArn,
      BENCH_CONCURRENCY: String(opts.concurrency),
      FLOOR_EXTRA_COMMANDS: process.env.BENCH_FLOOR_EXTRA_COMMANDS ?? '0',
    },
    /floor bridge ready/,
  );
}
