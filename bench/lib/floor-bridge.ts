/**
 * The least a BullMQ-backed bridge must do per task, as one bare process, so the bench can say how
 * much of the bridge's cost over a direct SDK worker is its design and how much is everything else
 * (heartbeat schedule, poll-slot reservation, write check, metrics, Nest). Not a bridge: no
 * heartbeats, no crash recovery, no failures, no retries; a no-op consumer is assumed.
 *
 *   FLOOR_MODE=flow    the bridge's shape until 2026-12-06: poll -> one BullMQ flow (relay parent holds the token, child
 *                      holds the input) -> a BullMQ Worker on the relay queue reads the child's
 *                      return value -> SendTaskSuccess.
 *   FLOOR_MODE=events  the bridge's shape since (without its guarantees): poll -> the token in a string key + one
 *                      `Queue.add` -> XREADGROUP on the binding queue's BullMQ event stream
 *                      (`completed` events carry the return value) -> SendTaskSuccess -> XACK + DEL.
 *
 * Both use the bridge's own SDK clients (libs/sfn: two socket pools, cached middleware).
 *
 *   env: REDIS_URL, BULLMQ_PREFIX, QUEUE, AWS_ENDPOINT_URL_SFN, ACTIVITY_ARN, BENCH_CONCURRENCY, FLOOR_MODE,
 *        FLOOR_EXTRA_COMMANDS
 */
import { GetActivityTaskCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { FlowProducer, Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { createHash } from 'node:crypto';
import { createSfnClients } from '@bridge/sfn';

const mode = process.env.FLOOR_MODE ?? 'flow';
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 32);
const activityArn = process.env.ACTIVITY_ARN!;
const prefix = process.env.BULLMQ_PREFIX!;
const queueName = process.env.QUEUE ?? 'bench';
const RELAY_QUEUE = 'sfn-bridge-relay';
const KEEP = { age: 3_600, count: 5_000 };

const sfn = createSfnClients({ region: 'us-east-1', pollers: concurrency, callbackSockets: concurrency + 8 });
const connection = new IORedis(process.env.REDIS_URL!, { maxRetriesPerRequest: null });
const jobIdOf = (token: string) => createHash('sha256').update(token).digest('hex');

let stopping = false;

/**
 * FLOOR_EXTRA_COMMANDS=k: k more Redis commands per task, issued together with the take (ZADD, then
 * ZREM of the same member on the next), to price one more command per task in this same setting.
 */
const extraCommands = Number(process.env.FLOOR_EXTRA_COMMANDS ?? 0);
const extras = (jobId: string): Promise<unknown>[] =>
  Array.from({ length: extraCommands }, (_, i) =>
    i % 2 === 0 ? connection.zadd(`${prefix}:floor:extra`, 0, jobId) : connection.zrem(`${prefix}:floor:extra`, jobId),
  );

async function pollLoop(take: (token: string, input: unknown) => Promise<unknown>): Promise<void> {
  while (!stopping) {
    const task = await sfn.poll.send(new GetActivityTaskCommand({ activityArn, workerName: 'floor' }));
    if (!task.taskToken) continue;
    const token = task.taskToken;
    const taken = take(token, JSON.parse(task.input ?? 'null'));
    await (extraCommands > 0 ? Promise.all([taken, ...extras(jobIdOf(token))]) : taken);
  }
}

async function flowMode(): Promise<void> {
  const flows = new FlowProducer({ connection, prefix });
  const relay = new Worker(
    RELAY_QUEUE,
    async (job) => {
      const values = await job.getChildrenValues();
      const output = JSON.stringify(Object.values(values)[0] ?? null);
      await sfn.callback.send(new SendTaskSuccessCommand({ taskToken: job.data.token, output }));
    },
    { connection: connection.duplicate(), prefix, concurrency },
  );
  relay.on('error', (err) => console.error(`floor relay: ${err.message}`));
  await relay.waitUntilReady();
  const take = (token: string, input: unknown) => {
    const jobId = jobIdOf(token);
    return flows.add({
      name: 'relay',
      queueName: RELAY_QUEUE,
      data: { token },
      opts: { jobId, removeOnComplete: KEEP },
      children: [{ name: 'task', queueName, data: input, opts: { jobId, ignoreDependencyOnFailure: true, removeOnComplete: KEEP } }],
    });
  };
  for (let i = 0; i < concurrency; i++) void pollLoop(take).catch(die);
}

const COMPLETED = 'completed';
/** Stream entries per read: a job writes about four events (added, waiting, active, completed). */
const READ_COUNT = 256;
type Entry = [string, string[]];

async function eventsMode(): Promise<void> {
  const queue = new Queue(queueName, { connection, prefix });
  const events = `${prefix}:${queueName}:events`;
  const tokenKey = (jobId: string) => `${prefix}:floor:token:${jobId}`;
  await connection.xgroup('CREATE', events, 'floor', '$', 'MKSTREAM').catch((err: Error) => {
    if (!err.message.includes('BUSYGROUP')) throw err;
  });
  const take = (token: string, input: unknown) => {
    const jobId = jobIdOf(token);
    return Promise.all([connection.set(tokenKey(jobId), token), queue.add('task', input, { jobId, removeOnComplete: KEEP })]);
  };
  const reader = connection.duplicate();
  let inFlight = 0;
  let wake: (() => void) | undefined;
  const relayBatch = async (entries: Entry[]): Promise<void> => {
    const done: { jobId: string; output: string }[] = [];
    for (const [, f] of entries) {
      if (f[1] !== COMPLETED) continue;
      let jobId = '';
      let output = 'null';
      for (let i = 2; i + 1 < f.length; i += 2) {
        if (f[i] === 'jobId') jobId = f[i + 1];
        else if (f[i] === 'returnvalue') output = f[i + 1];
      }
      done.push({ jobId, output });
    }
    if (done.length > 0) {
      const tokens = await connection.mget(done.map((d) => tokenKey(d.jobId)));
      await Promise.all(done.map((d, i) => sfn.callback.send(new SendTaskSuccessCommand({ taskToken: tokens[i]!, output: d.output }))));
    }
    const tx = connection.multi().xack(events, 'floor', ...entries.map(([id]) => id));
    if (done.length > 0) tx.del(...done.map((d) => tokenKey(d.jobId)));
    await tx.exec();
  };
  void (async () => {
    while (!stopping) {
      // At most `concurrency` completions relayed at once, like the bridge's RELAY_CONCURRENCY.
      while (inFlight >= concurrency) await new Promise<void>((r) => (wake = r));
      const reply = (await reader.xreadgroup('GROUP', 'floor', 'r1', 'COUNT', READ_COUNT, 'BLOCK', 1_000, 'STREAMS', events, '>')) as
        [string, Entry[]][] | null;
      const entries = reply?.[0]?.[1] ?? [];
      if (entries.length === 0) continue;
      const completions = entries.filter(([, f]) => f[1] === COMPLETED).length;
      inFlight += completions;
      void relayBatch(entries)
        .catch(die)
        .finally(() => {
          inFlight -= completions;
          wake?.();
          wake = undefined;
        });
    }
  })().catch((err: Error) => {
    if (!stopping) die(err);
  });
  for (let i = 0; i < concurrency; i++) void pollLoop(take).catch(die);
}

function die(err: Error): void {
  console.error(`floor bridge failed: ${err.stack}`);
  process.exit(1);
}

// Exits at once (the bench is done with it); process.exit still writes a --cpu-prof profile.
process.on('SIGTERM', () => {
  stopping = true;
  process.exit(0);
});

(mode === 'events' ? eventsMode() : flowMode()).then(
  () => console.log(`floor bridge ready (${mode}, ${concurrency})`),
  (err: Error) => die(err),
);
