import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { Worker } from 'bullmq';
import IORedis from 'ioredis';
import { SfnLocal, startSfnLocal } from '../../apps/sfn-local/src';
import { bridgeEnv, BridgeProcess, spawnBridge } from '../support/bridge';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../support/redis';
import { createActivityMachine, startExecution, testSfnClient } from '../support/sfn';
import { waitFor } from '../support/wait-for';

const EXECUTIONS = Number(process.env.SCALE_EXECUTIONS ?? 5_000);
const MAX_PENDING = 100;
const REPLICAS = 3;
/** Every 50th job takes 2.5 s: its token needs ~2 heartbeats at heartbeatSeconds 1. */
const SLOW_EVERY = 50;
const SLOW_MS = 2_500;

/**
 * Three bridge processes on one Redis and one activity, `maxPending: 100` and autoscaled pollers:
 * Step Functions (the emulator) never sees more than 100 tasks of the activity outstanding at once,
 * every execution ends as its worker said, and a slow token gets about one heartbeat per interval,
 * not one per replica.
 */
describe('3 replicas on one Redis: maxPending holds across replicas (scale)', () => {
  let sfnLocal: SfnLocal;
  let sfn: SFNClient;
  let connection: IORedis;
  const prefix = uniquePrefix('limits3');
  const bridges: BridgeProcess[] = [];
  let worker: Worker | undefined;

  beforeAll(async () => {
    sfnLocal = await startSfnLocal({ pollSeconds: 2, quiet: true });
    sfn = testSfnClient(sfnLocal.url);
    connection = new IORedis(REDIS_URL, { maxRetriesPerRequest: null });
  });

  afterAll(async () => {
    await worker?.close();
    for (const b of bridges) b.child.kill('SIGTERM');
    await Promise.all(bridges.map((b) => b.exited));
    await connection?.quit();
    await sfnLocal?.close();
    sfn?.destroy();
    await cleanupPrefix(prefix);
  });

  it(`${EXECUTIONS} executions through ${REPLICAS} replicas: never above maxPending outstanding, every result as the worker said, ~1 heartbeat per token per interval`, async () => {
    const machine = await createActivityMachine(sfn, 'limits3', { heartbeatSeconds: 5 });
    const binding = {
      activityArn: machine.activityArn,
      queue: 'limits3',
      pollers: { min: 2, max: 16 },
      maxPending: MAX_PENDING,
      heartbeatSeconds: 1,
    };
    for (let i = 0; i < REPLICAS; i++) bridges.push(spawnBridge(bridgeEnv(prefix, sfnLocal.url, [binding], { LOG_LEVEL: 'warn' })));
    worker = new Worker(
      'limits3',
      async (job) => {
        const i = job.data.i as number;
        if (i % SLOW_EVERY === 0) await new Promise((r) => setTimeout(r, SLOW_MS));
        if (i % 10 === 3) throw Object.assign(new Error(`declined ${i}`), { name: 'PaymentDeclined' });
        return { i };
      },
      { connection, prefix, concurrency: 64 },
    );
    const t0 = Date.now();
    const arns: string[] = [];
    for (let start = 0; start < EXECUTIONS; start += 100) {
      const batch = Array.from({ length: Math.min(100, EXECUTIONS - start) }, (_, k) =>
        startExecution(sfn, machine.stateMachineArn, { i: start + k }),
      );
      arns.push(...(await Promise.all(batch)));
    }
    await waitFor(() => (sfnLocal.counters().tasksClosed >= EXECUTIONS ? true : undefined), {
      timeoutMs: 170_000,
      intervalMs: 500,
      message: `all ${EXECUTIONS} tasks closed (closed so far: ${JSON.stringify(sfnLocal.counters().closes)})`,
    });
    const elapsedS = (Date.now() - t0) / 1000;
    const c = sfnLocal.counters();
    const wrong: string[] = [];
    for (let start = 0; start < arns.length; start += 50) {
      const described = await Promise.all(
        arns.slice(start, start + 50).map((executionArn) => sfn.send(new DescribeExecutionCommand({ executionArn }))),
      );
      described.forEach((d, k) => {
        const i = start + k;
        const ok =
          i % 10 === 3
            ? d.status === 'FAILED' && d.error === 'PaymentDeclined'
            : d.status === 'SUCCEEDED' && d.output === JSON.stringify({ i });
        if (!ok) wrong.push(`${i}: ${d.status} ${d.error ?? d.output}`);
      });
    }
    // Heartbeats due: one per full interval (1 s) each token was open, from the emulator's records.
    let due = 0;
    for (const executionArn of arns) {
      for (const t of sfnLocal.tasks({ executionArn }))
        due += Math.floor(((t.closedAt ?? Date.now()) - (t.handedOutAt ?? Date.now())) / 1000);
    }
    const heartbeatsPerDue = c.heartbeats / Math.max(1, due);
    // Seen on failure: the peak, what closed how, the heartbeat rate, how long it took.
    const seen = {
      maxOutstanding: c.maxOpenTasksByArn[machine.activityArn],
      closes: c.closes,
      secondResults: c.secondResults,
      wrong: wrong.slice(0, 5),
      heartbeats: c.heartbeats,
      heartbeatsDue: due,
      elapsedS,
    };
    console.log(`limits-replicas: ${JSON.stringify(seen)}`);
    expect(seen.maxOutstanding).toBeLessThanOrEqual(MAX_PENDING);
    expect({ closes: seen.closes, secondResults: seen.secondResults, wrong: seen.wrong }).toEqual({
      closes: { succeeded: EXECUTIONS - Math.floor((EXECUTIONS + 6) / 10), failed: Math.floor((EXECUTIONS + 6) / 10) },
      secondResults: 0,
      wrong: [],
    });
    // About one per token per interval (a heartbeat racing a close, or a retry after a throttle, adds a
    // few): three uncoordinated replicas would send ~3 per interval.
    expect(heartbeatsPerDue).toBeLessThanOrEqual(1.5);
  }, 240_000);
});
