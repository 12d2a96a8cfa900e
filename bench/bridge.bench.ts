/**
 * Bridge throughput and memory: N executions, started up front, drained by the bridge through
 * emulator -> bridge -> BullMQ worker -> relay,
 * against a baseline measured in the same run: the same N jobs through plain BullMQ (Queue.addBulk
 * + the same Worker), i.e. what the queue itself costs without Step Functions or the bridge.
 *
 *   npm run bench:bridge      (env: BENCH_TASKS=3000 BENCH_POLLERS=32 BENCH_CONCURRENCY=50)
 *
 * The bridge and the emulator run as child processes (built bundles) so their CPU and memory are
 * read apart from the load generator (from /proc). Loopback only; bounded in time.
 */
import { CreateActivityCommand, CreateStateMachineCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { SfnLocalControl } from '../apps/sfn-local/src/control-client';
import { cleanupPrefix, uniquePrefix } from '../test/support/redis';
import { procStats, spawnReady, Spawned } from './lib/child-process';

const ROOT = join(__dirname, '..');
const TASKS = Number(process.env.BENCH_TASKS ?? 3000);
const POLLERS = Number(process.env.BENCH_POLLERS ?? 32);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const TIME_LIMIT_MS = 180_000;

const processor = async (job: { data: { i: number } }) => ({ i: job.data.i, ok: true });

async function baseline(prefix: string, connection: IORedis): Promise<number> {
  const queue = new Queue('bench-baseline', { connection, prefix });
  let done = 0;
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const worker = new Worker('bench-baseline', processor, { connection, prefix, concurrency: CONCURRENCY });
  worker.on('completed', () => ++done === TASKS && finish());
  const started = Date.now();
  for (let i = 0; i < TASKS; i += 500) {
    await queue.addBulk(Array.from({ length: Math.min(500, TASKS - i) }, (_, k) => ({ name: 'job', data: { i: i + k } })));
  }
  await finished;
  const seconds = (Date.now() - started) / 1000;
  await worker.close();
  await queue.close();
  return TASKS / seconds;
}

async function throughBridge(prefix: string, connection: IORedis) {
  const sfnLocal = await spawnReady('sfn', [join(ROOT, 'dist/apps/sfn-local/main.js'), '--port', '0', '--poll-seconds', '5'], {}, /listening on (http:\/\/\S+)/);
  const url = sfnLocal.match[1];
  const sfn = new SFNClient({
    region: 'us-east-1',
    endpoint: url,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets: 64 }) }),
  });
  const { activityArn } = await sfn.send(new CreateActivityCommand({ name: `bench-${prefix}` }));
  const { stateMachineArn } = await sfn.send(
    new CreateStateMachineCommand({
      name: `bench-${prefix}`,
      roleArn: 'arn:aws:iam::123456789012:role/x',
      definition: JSON.stringify({ StartAt: 'W', States: { W: { Type: 'Task', Resource: activityArn, End: true } } }),
    }),
  );
  // All executions start first (their tasks wait in the emulator), so the measured phase is the
  // bridge draining them: poll -> enqueue -> worker -> relay, not the load generator's start rate.
  const startedAt = Date.now();
  let next = 0;
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next < TASKS) {
      const i = next++;
      await sfn.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify({ i }) }));
    }
  }));
  const startSeconds = (Date.now() - startedAt) / 1000;
  let bridge: Spawned | undefined;
  const worker = new Worker('bench', processor, { connection, prefix, concurrency: CONCURRENCY });
  try {
    bridge = await spawnReady('bridge', [process.env.BENCH_BRIDGE_MAIN ?? join(ROOT, 'dist/apps/bridge/main.js')], {
      REDIS_URL, BULLMQ_PREFIX: prefix, PORT: '0', AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_SFN: url,
      AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', LOG_LEVEL: 'info', RELAY_CONCURRENCY: '64',
      BRIDGE_BINDINGS: JSON.stringify({ bindings: [{ activityArn, queue: 'bench', pollers: POLLERS, maxPending: 5000 }] }),
    }, /Nest application successfully started|Listening on/);
    const idle = procStats(bridge.child.pid!);
    const control = new SfnLocalControl(url);
    const sfnIdle = procStats(sfnLocal.child.pid!);
    const selfIdle = process.cpuUsage();
    let peakRss = idle.rssMb;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, procStats(bridge!.child.pid!).rssMb)), 200);
    const started = Date.now();
    for (;;) {
      const c = await control.counters();
      if ((c.closes.succeeded ?? 0) >= TASKS) break;
      if (Date.now() - started > TIME_LIMIT_MS) throw new Error(`only ${c.closes.succeeded ?? 0}/${TASKS} done in time`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const seconds = (Date.now() - started) / 1000;
    clearInterval(sampler);
    const busy = procStats(bridge.child.pid!);
    const sfnCores = (procStats(sfnLocal.child.pid!).cpuSeconds - sfnIdle.cpuSeconds) / seconds;
    const self = process.cpuUsage(selfIdle);
    const workerCores = (self.user + self.system) / 1e6 / seconds;
    return {
      rate: TASKS / seconds, startSeconds, idleRssMb: idle.rssMb, peakRssMb: peakRss,
      cpuSeconds: busy.cpuSeconds - idle.cpuSeconds, seconds, sfnCores, workerCores,
    };
  } finally {
    await worker.close();
    bridge?.stop();
    sfnLocal.stop();
    sfn.destroy();
  }
}

async function main(): Promise<void> {
  const prefix = uniquePrefix('bench');
  const connection = new IORedis(REDIS_URL, { maxRetriesPerRequest: null });
  try {
    console.log(`bridge bench: ${TASKS} tasks, ${POLLERS} pollers, worker concurrency ${CONCURRENCY}`);
    const base = await baseline(prefix, connection);
    const b = await throughBridge(prefix, connection);
    const rows: [string, string][] = [
      ['baseline: plain BullMQ add + process (jobs/s)', base.toFixed(0)],
      ['bridge: executions end to end (tasks/s)', b.rate.toFixed(0)],
      ['ratio bridge / baseline', (b.rate / base).toFixed(2)],
      ['executions pre-started in (s) / bridge drained them in (s)', `${b.startSeconds.toFixed(1)} / ${b.seconds.toFixed(1)}`],
      ['bridge CPU per 1,000 tasks (s)', ((b.cpuSeconds / TASKS) * 1000).toFixed(2)],
      ['bridge CPU use during the run (cores)', (b.cpuSeconds / b.seconds).toFixed(2)],
      ['emulator / worker process CPU use during the run (cores)', `${b.sfnCores.toFixed(2)} / ${b.workerCores.toFixed(2)}`],
      ['bridge RSS idle / peak (MB)', `${b.idleRssMb.toFixed(0)} / ${b.peakRssMb.toFixed(0)}`],
      ['ratio peak / idle RSS', (b.peakRssMb / b.idleRssMb).toFixed(2)],
    ];
    const w = Math.max(...rows.map((r) => r[0].length));
    for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
  } finally {
    await connection.quit();
    await cleanupPrefix(prefix);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
