import { BridgeFixture } from '../support/bridge-fixture';
import { startExecution } from '../support/sfn';
import { waitFor } from '../support/wait-for';

const BURST = Number(process.env.SCALE_BURST ?? 5_000);

/** The pollers gauge of the binding, read from the bridge's /metrics. */
async function pollersGauge(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = text.match(/^sfn_bridge_pollers\{binding="[^"]+"\} (\d+)$/m);
  if (!m) throw new Error(`no sfn_bridge_pollers in /metrics:\n${text.slice(0, 500)}`);
  return Number(m[1]);
}

/**
 * `pollers: { min: 2, max: 32 }`: an idle binding keeps 2 polls parked; a burst grows the pool
 * toward 32 while polls return tasks, and once the burst has drained it sheds back to 2 within a
 * few poll holds (1 s here).
 */
describe('poller autoscaling (scale)', () => {
  let fx: BridgeFixture;

  beforeAll(async () => {
    fx = await BridgeFixture.start({
      label: 'autoscale',
      pollSeconds: 1,
      binding: { pollers: { min: 2, max: 32 }, maxPending: 500, heartbeatSeconds: 10 },
    });
  });

  afterAll(() => fx?.close());

  it(`idle settles at min, a burst of ${BURST} tasks grows toward max and drains, then back to min`, async () => {
    const { sfnLocal, sfn, machine, bridge } = fx;
    const arn = machine.activityArn;
    await waitFor(
      async () => ((await pollersGauge(bridge.url)) === 2 && sfnLocal.counters().parkedPollsByArn[arn] === 2 ? true : undefined),
      {
        timeoutMs: 5_000,
        message: `idle at 2 pollers (gauge ${await pollersGauge(bridge.url)}, parked ${sfnLocal.counters().parkedPollsByArn[arn]})`,
      },
    );
    const idle = { gauge: await pollersGauge(bridge.url), parked: sfnLocal.counters().parkedPollsByArn[arn] };
    fx.worker(async (job) => ({ i: job.data.i }), { concurrency: 100 });
    const sizes: number[] = [];
    const sampler = setInterval(
      () =>
        void pollersGauge(bridge.url).then(
          (n) => sizes.push(n),
          () => undefined,
        ),
      100,
    );
    try {
      for (let start = 0; start < BURST; start += 100) {
        await Promise.all(
          Array.from({ length: Math.min(100, BURST - start) }, (_, k) => startExecution(sfn, machine.stateMachineArn, { i: start + k })),
        );
      }
      await waitFor(() => (sfnLocal.counters().tasksClosed >= BURST ? true : undefined), {
        timeoutMs: 120_000,
        intervalMs: 250,
        message: `${BURST} tasks closed (so far ${sfnLocal.counters().tasksClosed})`,
      });
    } finally {
      clearInterval(sampler);
    }
    const peak = Math.max(...sizes);
    await waitFor(async () => ((await pollersGauge(bridge.url)) === 2 ? true : undefined), {
      timeoutMs: 5_000,
      message: `back at 2 pollers after the burst (gauge ${await pollersGauge(bridge.url)})`,
    });
    const c = sfnLocal.counters();
    console.log(`autoscaling: ${JSON.stringify({ idle, peak, closes: c.closes, maxOutstanding: c.maxOpenTasksByArn[arn] })}`);
    expect({ idle, grew: peak >= 16, closes: c.closes, secondResults: c.secondResults }).toEqual({
      idle: { gauge: 2, parked: 2 },
      grew: true,
      closes: { succeeded: BURST },
      secondResults: 0,
    });
    expect(peak).toBeLessThanOrEqual(32);
  }, 180_000);
});
