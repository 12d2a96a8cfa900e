import { SFNClient } from '@aws-sdk/client-sfn';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SfnLocalControl } from '../../sfn-local/src/control-client';
import { claimLeaseMs } from '@bridge/heartbeat';
import { BRIDGE_HEARTBEAT_DEFAULT_SECONDS } from './chaos-constants';
import { DispatchSampler } from './dispatch-sampler';
import { ChaosMonkey } from './chaos-monkey';
import type { ChaosOptions } from './chaos-options';
import type { ChaosSummary } from './chaos-summary';
import { Consumers } from './consumers';
import { faultMix } from './fault-plan';
import { ProcessSupervisor } from './process-supervisor';
import { watchProgress } from './progress-watcher';
import { seededRandom } from './random';
import type { RedisTopology } from './redis-topology';
import { collectResults } from './result-collector';
import { RunClock } from './run-clock';
import { createSfnClient } from './sfn-client';
import { createSfnResources } from './sfn-resources';
import { startRedisTopology } from './start-redis-topology';
import { buildSummary } from './summary-builder';
import { BINDINGS, KINDS } from './workload';
import { planExecutions, WorkloadDriver } from './workload-driver';

// Re-exported for callers that import the chaos script's surface from here (e.g. the e2e spec's ChaosSummary).
export { ROOT } from './chaos-constants';
export { ALL_ACTIONS, DEFAULT_OPTIONS } from './chaos-options';
export type { ChaosAction, ChaosOptions } from './chaos-options';
export type { ChaosEvent } from './chaos-monkey';
export type { ChaosRow, ChaosSummary } from './chaos-summary';
export type { FailoverRecord, RedisMode } from './redis-topology';
export { formatSummary } from './summary-table';

/**
 * One chaos run: private Redis (one node, a Cluster or Sentinel: `opts.redis`), the emulator
 * (with faults) and bridge replicas as children; executions started at a steady rate while the
 * monkey kills bridges and restarts Redis or fails it over; then every execution's end is read
 * out and checked against what its worker said.
 */
export async function runChaos(opts: ChaosOptions): Promise<ChaosSummary> {
  const log = opts.log;
  const clock = new RunClock(opts.seconds);
  const random = seededRandom(opts.seed);
  const chaosRandom = seededRandom(opts.seed ^ 0x5eed);
  const dir = mkdtempSync(join(tmpdir(), 'sfn-chaos-'));
  const supervisor = new ProcessSupervisor(dir, log);
  let redis: RedisTopology | undefined;
  let consumers: Consumers | undefined;
  let sfn: SFNClient | undefined;
  let ok = false;
  try {
    // --- Redis (private: one node with AOF, a Cluster or Sentinel) and the emulator ---------------
    redis = await startRedisTopology(opts.redis, dir, log);
    const sfnUrl = await supervisor.startEmulator();
    const control = new SfnLocalControl(sfnUrl);
    sfn = createSfnClient(sfnUrl);
    log(`chaos: redis ${redis.description}, sfn-local ${sfnUrl}, seed ${opts.seed}`);

    // --- Activities, state machines, bindings; consumers (in this process); bridge replicas ------
    const { usedBindings, machines, bindings } = await createSfnResources(
      sfn,
      opts.kinds,
      opts.taskTimeoutSeconds,
      opts.taskHeartbeatSeconds,
    );
    const topology = redis;
    consumers = new Consumers(() => topology.connect(), redis.prefix);
    consumers.start(usedBindings.map((key) => ({ queue: machines.get(key)!.queue, plan: BINDINGS[key] })));
    const bridges = await supervisor.startBridges(opts.replicas, redis, sfnUrl, bindings);
    log(`chaos: ${bridges.length} bridge replica(s) up; bindings ${usedBindings.join(', ')}`);
    if (opts.faults) for (const f of faultMix()) await control.injectFault(f);
    const dispatch = new DispatchSampler(() => supervisor.metricsUrls);
    dispatch.start();

    // --- Workload, chaos, progress ----------------------------------------------------------------
    const driver = new WorkloadDriver(planExecutions(random, opts), sfn, machines, opts.rate, clock.deadline);
    const driving = driver.run();
    const monkey = new ChaosMonkey(opts, chaosRandom, supervisor, redis, clock, log);
    monkey.start();
    await watchProgress({ opts, sfn, control, machines, driver, monkey, supervisor, redis, clock, log });
    await monkey.stop();
    await driving;
    const runSeconds = clock.seconds();
    // Dispatch figures also without the scrapes that overlap a Redis outage (+2 s for the retried writes).
    const dispatchFigures = await dispatch.stop((from, to) =>
      monkey.events.some((ev) => ev.action.startsWith('redis') && ev.at <= to && ev.at + ev.ms + 2_000 >= from),
    );

    // --- Read-out and verdict ---------------------------------------------------------------------
    const started = driver.started();
    log(`[${clock.elapsed()}] reading out ${started.length} executions`);
    // A token's heartbeats may pause for its binding's interval plus the claim lease (its claimer died).
    const intervalMs = (key: keyof typeof BINDINGS) => (BINDINGS[key].heartbeatSeconds ?? BRIDGE_HEARTBEAT_DEFAULT_SECONDS) * 1000;
    const leaseMs = claimLeaseMs(usedBindings.map(intervalMs));
    const silenceBoundMs = (kind: keyof typeof KINDS) => intervalMs(KINDS[kind].binding) + leaseMs;
    const tally = await collectResults({
      sfn,
      control,
      probe: () => topology.probe(),
      prefix: redis.prefix,
      consumers,
      machines,
      started,
      monkey,
      silenceBoundMs,
      runStartedAt: clock.t0,
    });
    const summary = buildSummary({
      opts,
      tally,
      startErrors: driver.startErrors,
      events: monkey.events,
      redis: { mode: redis.mode, description: redis.description, failovers: monkey.failovers },
      runSeconds,
      dir,
      dispatch: dispatchFigures,
    });
    ok = summary.ok;
    return summary;
  } finally {
    await consumers?.close().catch(() => undefined);
    sfn?.destroy();
    await supervisor.stopAll();
    await redis?.stop().catch((err: unknown) => log(`chaos: stopping Redis failed: ${(err as Error).message}`));
    if (ok && !opts.keep) rmSync(dir, { recursive: true, force: true });
  }
}
