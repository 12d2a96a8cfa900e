import { SFNClient } from '@aws-sdk/client-sfn';
import { Job } from 'bullmq';
import { SfnLocal } from '../../apps/sfn-local/src';
import { InProcessBridge } from '../support/bridge';
import { BridgeFixture } from '../support/bridge-fixture';
import { createActivityMachine, startExecution, waitForExecution } from '../support/sfn';
import { waitFor } from '../support/wait-for';
import { get, sample } from './ops-http';

class PaymentDeclined extends Error {
  override name = 'PaymentDeclined';
}

describe('/metrics', () => {
  let fx: BridgeFixture;
  let sfnLocal: SfnLocal;
  let sfn: SFNClient;
  let bridge: InProcessBridge;
  let machine: Awaited<ReturnType<typeof createActivityMachine>>;

  beforeAll(async () => {
    fx = await BridgeFixture.start({
      label: 'metrics',
      activity: 'metrics-pay',
      queue: 'metrics-payments',
      binding: { pollers: 4 },
      pollSeconds: 1,
    });
    ({ sfnLocal, sfn, bridge, machine } = fx);
    fx.worker(
      async (job: Job<{ n: number }>) => {
        if (job.data.n % 3 === 0) throw new PaymentDeclined(`order ${job.data.n} declined`);
        return { n: job.data.n };
      },
      { concurrency: 10 },
    );
  });

  afterAll(() => fx?.close());

  const scrape = async () => {
    const res = await get(`${bridge.url}/metrics`);
    expect(res.status).toBe(200);
    return res.text;
  };

  it('serves the Prometheus text format with the bridge and Node default metrics', async () => {
    const res = await get(`${bridge.url}/metrics`);
    const type = res.headers.get('content-type') ?? '';
    expect(type.split(';')[0]).toBe('text/plain');
    expect(type).toContain('version=0.0.4');
    expect(res.text).toMatch(/^# TYPE sfn_bridge_polls_total counter$/m);
    expect(res.text).toMatch(/^# TYPE sfn_bridge_end_to_end_seconds histogram$/m);
    expect(res.text).toMatch(/^process_resident_memory_bytes \d+/m);
    // The gauge follows the connection's events: 1 once its Redis connection is ready.
    const up = await waitFor(async () => sample(await scrape(), 'sfn_bridge_redis_up') === 1, {
      timeoutMs: 5_000,
      message: 'sfn_bridge_redis_up to be 1',
    });
    expect(up).toBe(true);
  });

  it('counts a run of executions exactly: enqueued = started, relays by outcome, one observation per task', async () => {
    const binding = machine.activityArn.split(':').pop()!;
    const before = await scrape();
    expect(sample(before, 'sfn_bridge_tasks_enqueued_total', { binding })).toBe(0);

    const count = 30;
    const arns = await Promise.all(Array.from({ length: count }, (_, n) => startExecution(sfn, machine.stateMachineArn, { n })));
    const results = await Promise.all(arns.map((arn) => waitForExecution(sfn, arn, 30_000)));
    const failed = results.filter((r) => r.status === 'FAILED').length;
    expect(failed).toBe(10); // n = 0, 3, ..., 27
    expect(results.filter((r) => r.status === 'SUCCEEDED')).toHaveLength(count - failed);

    // The relay counts after Step Functions acknowledged, so the last counts may trail the executions by a moment.
    const text = await waitFor(
      async () => {
        const t = await scrape();
        const relays = ['success', 'failure', 'expired', 'cancelled'].reduce(
          (n, outcome) => n + sample(t, 'sfn_bridge_relays_total', { binding, outcome }),
          0,
        );
        return relays >= count ? t : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 100, message: `${count} relays counted in /metrics` },
    );

    expect(sample(text, 'sfn_bridge_tasks_enqueued_total', { binding })).toBe(count);
    expect(sample(text, 'sfn_bridge_polls_total', { binding, result: 'task' })).toBe(count);
    expect(sample(text, 'sfn_bridge_relays_total', { binding, outcome: 'success' })).toBe(count - failed);
    expect(sample(text, 'sfn_bridge_relays_total', { binding, outcome: 'failure' })).toBe(failed);
    expect(sample(text, 'sfn_bridge_relays_total', { binding, outcome: 'expired' })).toBe(0);
    expect(sample(text, 'sfn_bridge_enqueue_failures_total', { binding })).toBe(0);
    expect(sample(text, 'sfn_bridge_dispatch_seconds_count', { binding })).toBe(count);
    expect(sample(text, 'sfn_bridge_end_to_end_seconds_count', { binding })).toBe(count);
    expect(sample(text, 'sfn_bridge_processing_seconds_count', { binding })).toBe(count);
    expect(sample(text, 'sfn_bridge_binding_healthy', { binding })).toBe(1);
    expect(sfnLocal.counters().duplicateSendTask).toBe(0);
  }, 60_000);
});
