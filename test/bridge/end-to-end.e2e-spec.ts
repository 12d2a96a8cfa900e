import { SFNClient } from '@aws-sdk/client-sfn';
import { Job, Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { SfnLocal } from '../../apps/sfn-local/src';
import { bridgeEnv, startBridge } from '../support/bridge';
import { BridgeFixture } from '../support/bridge-fixture';
import { cleanupPrefix } from '../support/redis';
import { duplicateRelays } from '../support/relay-counters';
import { createActivityMachine, startExecution, waitForExecution } from '../support/sfn';

const { chargeCard } = require('../../examples/node-worker/payment-processor');

describe('bridge end to end (emulator over HTTP, real Redis, real BullMQ worker)', () => {
  let fx: BridgeFixture;
  let sfnLocal: SfnLocal;
  let sfn: SFNClient;
  let prefix: string;
  let connection: IORedis;
  let machine: Awaited<ReturnType<typeof createActivityMachine>>;
  const queue = 'payments';

  beforeAll(async () => {
    fx = await BridgeFixture.start({ label: 'e2e', activity: 'charge-card', queue, binding: { pollers: 16, maxPending: 1000 } });
    ({ sfnLocal, sfn, prefix, connection, machine } = fx);
    fx.worker(chargeCard, { concurrency: 50 });
  });

  afterAll(() => fx?.close());

  it('ends 500 executions as the worker said: output on success, error name and message on failure', async () => {
    const inputs = Array.from({ length: 500 }, (_, i) => ({
      orderId: `o-${i}`,
      amountCents: 100 + i,
      card: i % 5 === 0 ? `4000000000000${String(i).padStart(3, '0')}` : '4242424242424242',
    }));
    const arns = await Promise.all(inputs.map((input) => startExecution(sfn, machine.stateMachineArn, input)));
    const results = await Promise.all(arns.map((arn) => waitForExecution(sfn, arn, 60_000)));

    results.forEach((r, i) => {
      const input = inputs[i];
      if (i % 5 === 0) {
        expect({ status: r.status, error: r.error, cause: r.cause }).toEqual({
          status: 'FAILED',
          error: 'PaymentDeclined',
          cause: `card ending ${input.card.slice(-4)} declined`,
        });
      } else {
        expect(r.status).toBe('SUCCEEDED');
        expect(JSON.parse(r.output!)).toMatchObject({ orderId: input.orderId, amountCents: input.amountCents, status: 'charged' });
      }
    });

    // One job per execution, none without an execution.
    const childQueue = new Queue(queue, { connection, prefix });
    const counts = await childQueue.getJobCounts('completed', 'failed', 'waiting', 'active');
    expect(counts).toEqual({ completed: 400, failed: 100, waiting: 0, active: 0 });
    await childQueue.close();
    // No result relayed twice (a heartbeat crossing the relay's close is benign and not counted).
    expect(duplicateRelays(sfnLocal.counters())).toBe(0);
  }, 120_000);

  it('gives the consumer the task input as job.data and never the task token', async () => {
    const seen: Job[] = [];
    const m = await createActivityMachine(sfn, 'inspect');
    const other = await startBridge(
      bridgeEnv(prefix + '-b', sfnLocal.url, [{ activityArn: m.activityArn, queue: 'inspect' }], { PORT: '0' }),
    );
    const spy = new Worker('inspect', async (job) => (seen.push(job), { ok: true }), { connection, prefix: prefix + '-b' });
    try {
      const arn = await startExecution(sfn, m.stateMachineArn, { hello: 'world', n: 1 });
      const done = await waitForExecution(sfn, arn);
      expect(done.status).toBe('SUCCEEDED');
      expect(seen).toHaveLength(1);
      expect(seen[0].data).toEqual({ hello: 'world', n: 1 });
      expect(JSON.stringify(seen[0].toJSON())).not.toMatch(/taskToken|AAAA[A-Za-z0-9+/=]{100}/);
    } finally {
      await spy.close();
      await other.close();
      await cleanupPrefix(prefix + '-b');
    }
  }, 60_000);
});
