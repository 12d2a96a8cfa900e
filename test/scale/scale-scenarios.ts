import { GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { Queue, Worker } from 'bullmq';
import IORedis, { type Cluster } from 'ioredis';
import { SfnLocal, startSfnLocal } from '../../apps/sfn-local/src';
import { bridgeEnv, BridgeProcess, spawnBridge, startBridge } from '../support/bridge';
import { uniquePrefix } from '../support/redis';
import { duplicateRelays } from '../support/relay-counters';
import { createActivityMachine, startExecution, testSfnClient, waitForExecution } from '../support/sfn';
import { waitFor, within } from '../support/wait-for';

const { chargeCard } = require('../../examples/node-worker/payment-processor');

/**
 * The e2e subset that matters (end to end with failure mapping, heartbeats, crash safety, and a
 * failover of the primary mid-run), written once and run by cluster.e2e-spec.ts and
 * sentinel.e2e-spec.ts on their private Redis topologies.
 */

export interface Topology {
  /** Bridge env selecting the topology (REDIS_URL blanked: blank counts as unset). */
  env: Record<string, string>;
  /** A client for the test's own consumers and probes. */
  connect(): IORedis | Cluster;
  failover(how: 'graceful' | 'kill'): Promise<{ oldPrimary: number; newPrimary: number; ms: number }>;
}

/** Hash-tagged, as cluster mode requires (and harmless on Sentinel). */
const taggedPrefix = (label: string) => uniquePrefix(`{${label}}`);

export function describeScaleScenarios(name: string, startTopology: () => Promise<Topology & { stop(): Promise<void> }>): void {
  describe(`the bridge on ${name}`, () => {
    let topo: Topology & { stop(): Promise<void> };
    let sfnLocal: SfnLocal;
    let sfn: SFNClient;
    let connection: IORedis | Cluster;
    const closers: Array<() => Promise<unknown>> = [];

    beforeAll(async () => {
      topo = await startTopology();
      sfnLocal = await startSfnLocal({ pollSeconds: 2, quiet: true });
      sfn = testSfnClient(sfnLocal.url);
      connection = topo.connect();
      connection.on('error', () => undefined); // node errors during failovers are expected; commands retry
    }, 90_000);

    afterEach(async () => {
      const errors: unknown[] = [];
      for (const close of closers.splice(0).reverse()) await close().catch((err) => errors.push(err));
      if (errors.length) throw new AggregateError(errors, 'closing the test resources failed');
    });

    afterAll(async () => {
      connection?.disconnect();
      await sfnLocal?.close();
      sfn?.destroy();
      await topo?.stop();
    }, 30_000);

    async function setup(
      label: string,
      binding: Record<string, unknown>,
      task: { heartbeatSeconds?: number } = {},
      extra: Record<string, string> = {},
    ) {
      const prefix = taggedPrefix(label);
      const machine = await createActivityMachine(sfn, label, { timeoutSeconds: 120, ...task });
      const env = bridgeEnv(prefix, sfnLocal.url, [{ activityArn: machine.activityArn, queue: 'payments', ...binding }], {
        ...topo.env,
        ...extra,
      });
      return { prefix, machine, env };
    }

    function worker(prefix: string, processor = chargeCard, concurrency = 50): Worker {
      const w = new Worker('payments', processor, { connection, prefix, concurrency });
      w.on('error', () => undefined); // a failover interrupts its Redis calls; BullMQ retries them
      closers.push(() => w.close());
      return w;
    }

    function orders(n: number, workMs = 0) {
      return Array.from({ length: n }, (_, i) => ({
        orderId: `o-${i}`,
        amountCents: 100 + i,
        card: i % 5 === 0 ? `4000000000000${String(i).padStart(3, '0')}` : '4242424242424242',
        ...(workMs ? { workMs } : {}),
      }));
    }

    /** Every execution ended as chargeCard said, from one close each, with one job each. */
    async function expectAsTheWorkerSaid(
      prefix: string,
      inputs: ReturnType<typeof orders>,
      arns: string[],
      before = sfnLocal.counters(),
      t0 = Date.now(),
    ) {
      // One cheap wait on the emulator's counter, then one DescribeExecution each (polling every
      // execution would load the process that also runs the emulator and the bridge).
      await waitFor(() => sfnLocal.counters().tasksClosed - before.tasksClosed >= arns.length, {
        timeoutMs: 90_000,
        intervalMs: 200,
        message: `${arns.length} tasks closed (${sfnLocal.counters().tasksClosed - before.tasksClosed} of them closed; emulator-wide: ${JSON.stringify(sfnLocal.counters().closes)})`,
      });
      const results = await Promise.all(arns.map((arn) => waitForExecution(sfn, arn, 10_000)));
      const wrong = results
        .map((r, i) => {
          const declined = i % 5 === 0;
          const ok = declined
            ? r.status === 'FAILED' && r.error === 'PaymentDeclined' && r.cause === `card ending ${inputs[i].card.slice(-4)} declined`
            : r.status === 'SUCCEEDED' && JSON.parse(r.output!).orderId === inputs[i].orderId;
          if (ok) return undefined;
          // Task times relative to t0 (the failover's start, in failover tests), to tell why.
          const t = sfnLocal.tasks({ executionArn: arns[i] })[0];
          const at = (ms?: number) => (ms === undefined ? '-' : `${ms - t0}`);
          return `${i}: ${r.status} ${r.error ?? ''} ${r.cause ?? r.output ?? ''} (handed out ${at(t?.handedOutAt)}, last heartbeat ${at(t?.lastHeartbeatAt)}, closed ${at(t?.closedAt)} ms)`;
        })
        .filter(Boolean);
      expect(wrong).toEqual([]);
      const after = sfnLocal.counters();
      expect(duplicateRelays(after) - duplicateRelays(before)).toBe(0);
      expect(after.tasksHandedOut - before.tasksHandedOut).toBe(arns.length);
      const queue = new Queue('payments', { connection, prefix });
      closers.push(() => queue.close());
      const counts = await queue.getJobCounts('completed', 'failed', 'waiting', 'active', 'delayed');
      const declined = inputs.filter((_, i) => i % 5 === 0).length;
      expect(counts).toEqual({ completed: arns.length - declined, failed: declined, waiting: 0, active: 0, delayed: 0 });
    }

    it('ends 200 executions as the worker said (output, or error name and cause), one job and one result each', async () => {
      const { prefix, machine, env } = await setup('e2e', { pollers: 8, maxPending: 200 });
      const bridge = await startBridge(env);
      closers.push(() => bridge.close());
      worker(prefix);
      const inputs = orders(200);
      const before = sfnLocal.counters();
      const arns = await Promise.all(inputs.map((input) => startExecution(sfn, machine.stateMachineArn, input)));
      await expectAsTheWorkerSaid(prefix, inputs, arns, before);
    }, 120_000);

    it('keeps tasks with HeartbeatSeconds 3 alive through 6 s jobs, and turns progress into heartbeats', async () => {
      const { prefix, machine, env } = await setup('hb', { heartbeatSeconds: 1 }, { heartbeatSeconds: 3 });
      const bridge = await startBridge(env);
      closers.push(() => bridge.close());
      worker(prefix);
      const inputs = orders(5, 6_000);
      const before = sfnLocal.counters();
      const arns = await Promise.all(inputs.map((input) => startExecution(sfn, machine.stateMachineArn, input)));
      await expectAsTheWorkerSaid(prefix, inputs, arns, before);
      expect(sfnLocal.counters().heartbeats - before.heartbeats).toBeGreaterThanOrEqual(5 * 4);
    }, 60_000);

    it('relays every result exactly once after the bridge is SIGKILLed with results waiting', async () => {
      const { prefix, machine, env } = await setup('crash', { pollers: 4 });
      const bridges: BridgeProcess[] = [];
      closers.push(async () => {
        for (const b of bridges) {
          if (b.child.exitCode === null && b.child.signalCode === null) b.child.kill('SIGTERM');
          await within(b.exited, 20_000, 'bridge to exit on SIGTERM').catch(() => b.child.kill('SIGKILL'));
        }
      });
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      closers.push(async () => release());
      const inputs = orders(20);
      worker(prefix, async (job: Parameters<typeof chargeCard>[0]) => (await held, chargeCard(job)));
      const first = spawnBridge(env);
      bridges.push(first);
      const before = sfnLocal.counters();
      const arns = await Promise.all(inputs.map((input) => startExecution(sfn, machine.stateMachineArn, input)));
      const queue = new Queue('payments', { connection, prefix });
      closers.push(() => queue.close());
      await waitFor(async () => (await queue.getJobCountByTypes('active')) === inputs.length, {
        timeoutMs: 30_000,
        message: `${inputs.length} jobs active\n${first.output().slice(-2000)}`,
      });
      first.child.kill('SIGKILL');
      await within(first.exited, 10_000, 'killed bridge to exit');
      release();
      await waitFor(async () => (await queue.getJobCountByTypes('completed', 'failed')) === inputs.length, {
        timeoutMs: 20_000,
        message: 'every job finished',
      });
      expect(sfnLocal.counters().tasksClosed - before.tasksClosed).toBe(0); // nothing relayed while no bridge runs
      bridges.push(spawnBridge(env));
      await expectAsTheWorkerSaid(prefix, inputs, arns, before);
      for (const arn of arns.slice(0, 5)) {
        const { events } = await sfn.send(new GetExecutionHistoryCommand({ executionArn: arn, maxResults: 1000 }));
        expect(events!.filter((e) => e.type === 'ActivitySucceeded' || e.type === 'ActivityFailed')).toHaveLength(1);
      }
    }, 90_000);

    it.each(['graceful', 'kill'] as const)(
      'loses nothing when the primary fails over mid-run (%s): every execution as its worker said, no second result, no duplicate job',
      async (how) => {
        // Heartbeats every second against HeartbeatSeconds 10: a token left without one for
        // longer than the failover (seconds, see the log line) would time out. The budget fits
        // 300 tokens a second.
        const { prefix, machine, env } = await setup(
          `fo-${how}`,
          { pollers: 8, maxPending: 100, heartbeatSeconds: 1 },
          { heartbeatSeconds: 10 },
          { HEARTBEAT_RATE_PER_SECOND: '1000' },
        );
        const bridge = await startBridge(env);
        closers.push(() => bridge.close());
        worker(prefix);
        // Slow enough that the failover lands while tasks are taken, queued, running and relayed.
        const inputs = orders(300, 1_000);
        const before = sfnLocal.counters();
        const arns = await Promise.all(inputs.map((input) => startExecution(sfn, machine.stateMachineArn, input)));
        await waitFor(() => sfnLocal.counters().tasksClosed - before.tasksClosed >= 30, {
          timeoutMs: 30_000,
          message: '30 tasks closed before the failover',
        });
        const t0 = Date.now();
        const handedOutAtStart = sfnLocal.counters().tasksHandedOut - before.tasksHandedOut;
        const failover = await topo.failover(how);
        const closedAtEnd = sfnLocal.counters().tasksClosed - before.tasksClosed;
        // Seen in the test log: how long the failover took.
        process.stdout.write(
          `${name} ${how} failover ${failover.oldPrimary} -> ${failover.newPrimary} in ${failover.ms} ms; ` +
            `${handedOutAtStart} of ${inputs.length} handed out at its start, ${closedAtEnd} closed at its end\n`,
        );
        // Mid-run: maxPending held tasks back in Step Functions, so polling went on across it.
        expect(handedOutAtStart).toBeLessThan(inputs.length);
        await expectAsTheWorkerSaid(prefix, inputs, arns, before, t0);
      },
      150_000,
    );
  });
}
