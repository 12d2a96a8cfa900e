import {
  CreateActivityCommand,
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  DescribeExecutionCommandOutput,
  GetExecutionHistoryCommand,
  HistoryEvent,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import IORedis from 'ioredis';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SfnLocalControl } from '../../sfn-local/src/control-client';
import type { FaultSpec } from '../../sfn-local/src/faults';
import type { SfnLocalCounters } from '../../sfn-local/src/counters';
import { Consumers } from './consumers';
import { freePort, ManagedChild, PrivateRedis } from './processes';
import { between, seededRandom } from './random';
import { BINDINGS, BindingKey, chooseKind, Expected, expectedOf, Kind, KINDS, makeInput, TaskInput } from './workload';

export const ROOT = resolve(__dirname, '../../..');
const PREFIX = 'chaos';
const RELAY_QUEUE = 'sfn-bridge-relay';
const TIMEOUT_ERRORS = new Set(['States.Timeout', 'States.HeartbeatTimeout']);

export type ChaosAction = 'bridge-sigkill' | 'bridge-sigterm' | 'redis-sigterm' | 'redis-sigkill';
export const ALL_ACTIONS: ChaosAction[] = ['bridge-sigkill', 'redis-sigterm', 'bridge-sigterm', 'redis-sigkill'];

export interface ChaosOptions {
  executions: number;
  /** Bound on the whole run (start to verdict, not counting the final read-out). */
  seconds: number;
  seed: number;
  replicas: number;
  /** StartExecution per second. */
  rate: number;
  /** Mean seconds between two chaos actions. */
  chaosEverySeconds: number;
  actions: ChaosAction[];
  /** Inject ~10 % throttling / 5xx / dropped connections at the emulator. */
  faults: boolean;
  kinds: Kind[];
  heartbeatWorkMs: [number, number];
  taskTimeoutSeconds: number;
  /** Give up waiting when no execution ended for this long after the chaos stopped. */
  stallSeconds: number;
  keep: boolean;
  log: (line: string) => void;
}

export const DEFAULT_OPTIONS: ChaosOptions = {
  executions: 10_000,
  seconds: 1_800,
  seed: 1,
  replicas: 2,
  rate: 100,
  chaosEverySeconds: 6,
  actions: ALL_ACTIONS,
  faults: true,
  kinds: Object.keys(KINDS) as Kind[],
  heartbeatWorkMs: [4_000, 8_000],
  taskTimeoutSeconds: 300,
  stallSeconds: 90,
  keep: false,
  log: (line) => process.stderr.write(`${line}\n`),
};

interface ExecRecord {
  index: number;
  input: TaskInput;
  expected: Expected;
  arn?: string;
  startedAt?: number;
}

interface KillRecord {
  replica: number;
  workerName: string;
  signal: 'SIGKILL' | 'SIGTERM';
  at: number;
  exitMs: number;
  escalated: boolean;
}

export interface ChaosEvent {
  at: number;
  action: ChaosAction;
  target: string;
  ms: number;
}

export interface ChaosRow {
  label: string;
  value: number;
  /** 'zero': must be 0 (fails the run); 'info': reported. */
  rule: 'zero' | 'info';
  note?: string;
}

export interface ChaosSummary {
  ok: boolean;
  seconds: number;
  options: Omit<ChaosOptions, 'log'>;
  rows: ChaosRow[];
  events: Record<string, number>;
  lostDetail: string[];
  wrongDetail: string[];
  timeoutLines: string[];
  timeoutDetail: Record<string, number>;
  counters: Pick<SfnLocalCounters, 'calls' | 'errors' | 'faultsFired' | 'closes' | 'duplicateSendTask' | 'heartbeats' | 'pollsAbandoned'>;
  relayOutcomes: Record<string, number>;
  logDir?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The ~10 % fault mix on the bridge's calls (never on the driver's own StartExecution/Describe). */
function faultMix(): FaultSpec[] {
  const out: FaultSpec[] = [
    { action: 'GetActivityTask', kind: 'throttle', probability: 0.05 },
    { action: 'GetActivityTask', kind: 'http500', probability: 0.025 },
    { action: 'GetActivityTask', kind: 'http503', probability: 0.025 },
    { action: 'GetActivityTask', kind: 'latency', probability: 0.01, latencyMs: 1_500 },
    { action: 'SendTaskHeartbeat', kind: 'throttle', probability: 0.05 },
    { action: 'SendTaskHeartbeat', kind: 'http503', probability: 0.05 },
  ];
  for (const action of ['SendTaskSuccess', 'SendTaskFailure']) {
    out.push(
      { action, kind: 'throttle', probability: 0.04 },
      { action, kind: 'http500', probability: 0.02 },
      { action, kind: 'http503', probability: 0.02 },
      { action, kind: 'drop', probability: 0.02 },
    );
  }
  // A slow answer past the bridge's 10 s callback timeout: the emulator still applies the call,
  // the bridge retries, and the retry is answered TaskTimedOut (the ambiguous case, reported).
  out.push({ action: 'SendTaskSuccess', kind: 'latency', probability: 0.001, latencyMs: 11_000 });
  return out;
}

function sdkClient(endpoint: string): SFNClient {
  return new SFNClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 8,
    requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets: 64 }), requestTimeout: 30_000 }),
  });
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  });
  await Promise.all(lanes);
  return out;
}

export async function runChaos(opts: ChaosOptions): Promise<ChaosSummary> {
  const log = opts.log;
  const t0 = Date.now();
  const deadline = t0 + opts.seconds * 1000;
  const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s`;
  const random = seededRandom(opts.seed);
  const chaosRandom = seededRandom(opts.seed ^ 0x5eed);
  const dir = mkdtempSync(join(tmpdir(), 'sfn-chaos-'));
  const children: ManagedChild[] = [];
  let consumers: Consumers | undefined;
  let sfn: SFNClient | undefined;
  let ok = false;
  try {
    // --- Redis (private, AOF) and the emulator --------------------------------------------------
    const redis = new PrivateRedis(await freePort(), dir);
    children.push(redis);
    await redis.start();
    const sfnPort = await freePort();
    const emulator = new ManagedChild({
      name: 'sfn-local',
      command: process.execPath,
      args: [join(ROOT, 'dist/apps/sfn-local/main.js'), '--port', String(sfnPort), '--poll-seconds', '2', '--quiet'],
      logPath: join(dir, 'sfn-local.log'),
      ready: /listening on/,
    });
    children.push(emulator);
    await emulator.start();
    const sfnUrl = `http://127.0.0.1:${sfnPort}`;
    const control = new SfnLocalControl(sfnUrl);
    sfn = sdkClient(sfnUrl);
    log(`chaos: redis ${redis.url} (AOF in ${dir}), sfn-local ${sfnUrl}, seed ${opts.seed}`);

    // --- Activities, state machines, bindings ---------------------------------------------------
    const usedBindings = [...new Set(opts.kinds.map((k) => KINDS[k].binding))];
    const machines = new Map<BindingKey, { activityArn: string; stateMachineArn: string; queue: string }>();
    for (const key of usedBindings) {
      const plan = BINDINGS[key];
      const { activityArn } = await sfn.send(new CreateActivityCommand({ name: `chaos-${key}` }));
      const definition = {
        StartAt: 'Work',
        States: {
          Work: {
            Type: 'Task',
            Resource: activityArn,
            TimeoutSeconds: opts.taskTimeoutSeconds,
            ...(plan.taskHeartbeatSeconds ? { HeartbeatSeconds: plan.taskHeartbeatSeconds } : {}),
            End: true,
          },
        },
      };
      const { stateMachineArn } = await sfn.send(
        new CreateStateMachineCommand({
          name: `chaos-${key}`,
          definition: JSON.stringify(definition),
          roleArn: 'arn:aws:iam::123456789012:role/chaos',
        }),
      );
      machines.set(key, { activityArn: activityArn!, stateMachineArn: stateMachineArn!, queue: `chaos-${key}` });
    }
    const bindings = usedBindings.map((key) => {
      const p = BINDINGS[key];
      return {
        activityArn: machines.get(key)!.activityArn,
        queue: machines.get(key)!.queue,
        pollers: p.pollers,
        maxPending: p.maxPending,
        attempts: p.attempts,
        ...(p.backoff ? { backoff: p.backoff } : {}),
        ...(p.heartbeatSeconds ? { heartbeatSeconds: p.heartbeatSeconds } : {}),
      };
    });

    // --- Consumers (in this process) -------------------------------------------------------------
    consumers = new Consumers(redis.url, PREFIX);
    consumers.start(
      usedBindings.map((key) => ({ queue: machines.get(key)!.queue, plan: BINDINGS[key] })),
      RELAY_QUEUE,
    );

    // --- Bridge replicas ------------------------------------------------------------------------
    const bridges: ManagedChild[] = [];
    for (let i = 0; i < opts.replicas; i++) {
      const bridge = new ManagedChild({
        name: `bridge-${i}`,
        command: process.execPath,
        args: [join(ROOT, 'dist/apps/bridge/main.js')],
        env: {
          REDIS_URL: redis.url,
          BULLMQ_PREFIX: PREFIX,
          PORT: '0',
          AWS_REGION: 'us-east-1',
          AWS_ENDPOINT_URL_SFN: sfnUrl,
          AWS_ACCESS_KEY_ID: 'local',
          AWS_SECRET_ACCESS_KEY: 'local',
          BRIDGE_BINDINGS: JSON.stringify({ bindings }),
          LOG_LEVEL: process.env.CHAOS_BRIDGE_LOG_LEVEL ?? 'info',
          RELAY_BACKOFF_MS: '100',
          RELAY_ATTEMPTS: '12',
          ENQUEUE_RETRY_FOR_MS: '30000',
          SHUTDOWN_DRAIN_TIMEOUT_MS: '10000',
          HEARTBEAT_DEFAULT_SECONDS: '1',
          HEARTBEAT_RATE_PER_SECOND: '400',
          HEARTBEAT_PROGRESS_MIN_INTERVAL_MS: '1000',
          BULL_BOARD_ENABLED: 'false',
        },
        logPath: join(dir, `bridge-${i}.log`),
        ready: /Listening on/,
      });
      bridge.envFor = (generation) => ({ WORKER_NAME: `chaos-r${i}-g${generation}` });
      bridges.push(bridge);
      children.push(bridge);
    }
    await Promise.all(bridges.map((b) => b.start()));
    log(`chaos: ${bridges.length} bridge replica(s) up; bindings ${usedBindings.join(', ')}`);
    if (opts.faults) for (const f of faultMix()) await control.injectFault(f);

    // --- Workload driver --------------------------------------------------------------------------
    const records: ExecRecord[] = [];
    for (let i = 0; i < opts.executions; i++) {
      const kind = chooseKind(random, opts.kinds);
      const input = makeInput(random, i, kind, opts.heartbeatWorkMs);
      records.push({ index: i, input, expected: expectedOf(input) });
    }
    let startErrors = 0;
    let driverDone = false;
    let allStartedAt = 0;
    const driver = (async () => {
      const begin = Date.now();
      let inFlight = 0;
      const flights = new Set<Promise<void>>();
      for (const rec of records) {
        if (Date.now() > deadline - 10_000) break;
        const due = begin + (rec.index * 1000) / opts.rate;
        if (due > Date.now()) await sleep(due - Date.now());
        while (inFlight >= 32) await Promise.race(flights);
        inFlight++;
        const m = machines.get(KINDS[rec.input.kind].binding)!;
        const p = sfn!
          .send(new StartExecutionCommand({ stateMachineArn: m.stateMachineArn, name: `${rec.input.kind}-${rec.index}`, input: JSON.stringify(rec.input) }))
          .then(
            (out) => {
              rec.arn = out.executionArn;
              rec.startedAt = Date.now();
            },
            () => void startErrors++,
          )
          .finally(() => {
            inFlight--;
            flights.delete(p);
          });
        flights.add(p);
      }
      await Promise.all(flights);
      driverDone = true;
      allStartedAt = Date.now();
    })();

    // --- Chaos monkey -----------------------------------------------------------------------------
    const events: ChaosEvent[] = [];
    const kills: KillRecord[] = [];
    let chaosOn = opts.actions.length > 0;
    const monkey = (async () => {
      let turn = 0;
      while (chaosOn) {
        const wait = opts.chaosEverySeconds * 1000 * (0.6 + 0.8 * chaosRandom());
        const until = Date.now() + wait;
        while (chaosOn && Date.now() < until) await sleep(Math.min(250, until - Date.now()));
        if (!chaosOn) break;
        const action = opts.actions[turn++ % opts.actions.length];
        const at = Date.now();
        if (action === 'bridge-sigkill' || action === 'bridge-sigterm') {
          const i = Math.floor(chaosRandom() * bridges.length);
          const b = bridges[i];
          const signal = action === 'bridge-sigkill' ? 'SIGKILL' : 'SIGTERM';
          const workerName = `chaos-r${i}-g${b.generation}`;
          const stopped = await b.stop(signal, 30_000);
          kills.push({ replica: i, workerName, signal, at, exitMs: stopped.ms, escalated: stopped.escalated });
          if (signal === 'SIGKILL') await sleep(between(chaosRandom, 200, 1_500));
          await startWithRetry(b);
          events.push({ at, action, target: workerName, ms: Date.now() - at });
          log(`[${elapsed()}] ${action} ${workerName}: exit after ${stopped.ms} ms${stopped.escalated ? ' (escalated to SIGKILL)' : ''}, restarted`);
        } else {
          const signal = action === 'redis-sigkill' ? 'SIGKILL' : 'SIGTERM';
          await redis.stop(signal, 10_000);
          await sleep(between(chaosRandom, 500, 2_500));
          await startWithRetry(redis);
          events.push({ at, action, target: 'redis', ms: Date.now() - at });
          log(`[${elapsed()}] ${action}: Redis down for ${Date.now() - at} ms, restarted from AOF`);
        }
      }
    })();

    async function startWithRetry(c: ManagedChild): Promise<void> {
      for (let attempt = 1; ; attempt++) {
        try {
          return await c.start();
        } catch (err) {
          if (attempt >= 3) throw err;
          log(`chaos: restart of ${c.spec.name} failed (${(err as Error).message.split('\n')[0]}); retrying`);
          await sleep(1_000);
        }
      }
    }

    // --- Watch progress --------------------------------------------------------------------------
    async function running(): Promise<number> {
      let n = 0;
      for (const m of machines.values()) {
        let nextToken: string | undefined;
        do {
          const page = await sfn!.send(new ListExecutionsCommand({ stateMachineArn: m.stateMachineArn, statusFilter: 'RUNNING', maxResults: 1000, nextToken }));
          n += page.executions?.length ?? 0;
          nextToken = page.nextToken;
        } while (nextToken);
      }
      return n;
    }
    let lastRunning = -1;
    let lastChangeAt = Date.now();
    let lastPrint = 0;
    let chaosStoppedAt = 0;
    for (;;) {
      await sleep(1_000);
      const started = records.filter((r) => r.arn).length;
      const now = Date.now();
      const run = await running();
      if (run !== lastRunning) {
        lastRunning = run;
        lastChangeAt = now;
      }
      if (now - lastPrint >= 5_000) {
        lastPrint = now;
        const up = bridges.filter((b) => b.running).length;
        log(`[${elapsed()}] started ${started}/${opts.executions}, running ${run}, ended ${started - run}; bridges up ${up}/${bridges.length}, redis ${redis.running ? 'up' : 'DOWN'}, chaos actions ${events.length}`);
      }
      if (now > deadline) {
        log(`[${elapsed()}] time bound reached with ${run} execution(s) still running`);
        break;
      }
      if (chaosOn && driverDone && (run === 0 || now - allStartedAt > 15_000)) {
        chaosOn = false;
        await monkey;
        await control.clearFaults();
        chaosStoppedAt = Date.now();
        lastChangeAt = chaosStoppedAt;
        log(`[${elapsed()}] chaos stopped (faults cleared, every process up); waiting for ${run} execution(s)`);
        continue;
      }
      if (!chaosOn && driverDone && run === 0) break;
      if (!chaosOn && chaosStoppedAt && now - lastChangeAt > opts.stallSeconds * 1000) {
        log(`[${elapsed()}] no execution ended for ${opts.stallSeconds} s; ${run} still running`);
        break;
      }
    }
    chaosOn = false;
    await monkey;
    await driver;
    const runSeconds = (Date.now() - t0) / 1000;

    // --- Read-out ---------------------------------------------------------------------------------
    log(`[${elapsed()}] reading out ${records.filter((r) => r.arn).length} executions`);
    const startedRecs = records.filter((r) => r.arn);
    const described = await mapLimit(startedRecs, 16, (r) => sfn!.send(new DescribeExecutionCommand({ executionArn: r.arn! })));
    const histories = await mapLimit(startedRecs, 16, async (r) => {
      const events: HistoryEvent[] = [];
      let nextToken: string | undefined;
      do {
        const page = await sfn!.send(new GetExecutionHistoryCommand({ executionArn: r.arn!, maxResults: 1000, nextToken }));
        events.push(...(page.events ?? []));
        nextToken = page.nextToken;
      } while (nextToken);
      return events;
    });
    const counters = await control.counters();
    const probe = new IORedis(redis.url, { maxRetriesPerRequest: 3 });

    let succeeded = 0;
    let failedAsSaid = 0;
    let lost = 0;
    let wrong = 0;
    let bridgeFailed = 0;
    let timeouts = 0;
    let hbTimeouts = 0;
    let secondAccepted = 0;
    let dupJobs = 0;
    let dupRuns = 0;
    let lateDup = 0;
    let lostInKilledReplica = 0;
    const lostDetail: string[] = [];
    const wrongDetail: string[] = [];
    const timeoutDetail: Record<string, number> = {};
    const timeoutLines: string[] = [];
    let timeoutsInRedisOutage = 0;
    const relayOutcomes: Record<string, number> = {};
    for (const list of consumers.relayResults.values()) {
      for (const v of list) {
        let key = 'unknown';
        try {
          const r = JSON.parse(v) as { status: string; reason?: string; outcome?: string };
          key = r.status === 'relayed' ? `relayed ${r.outcome}` : `${r.status} ${r.reason ?? ''}`.trim();
        } catch {
          /* keep unknown */
        }
        relayOutcomes[key] = (relayOutcomes[key] ?? 0) + 1;
      }
    }

    for (let i = 0; i < startedRecs.length; i++) {
      const rec = startedRecs[i];
      const d: DescribeExecutionCommandOutput = described[i];
      const hist = histories[i];
      const accepted = hist.filter((e) => e.type === 'ActivitySucceeded' || e.type === 'ActivityFailed').length;
      if (accepted > 1) secondAccepted++;
      const runs = consumers.runs.get(rec.input.id);
      if (runs && runs.jobIds.size > 1) dupJobs++;
      if (runs && (runs.invocations > rec.expected.invocations || runs.overlapping > 0)) dupRuns++;
      const relayed = [...(runs?.jobIds ?? [])].flatMap((id) => consumers!.relayResults.get(id) ?? []);
      const expiredRelay = relayed.some((v) => v.includes('"expired"'));

      if (d.status === 'RUNNING') {
        lost++;
        const why = await explainLost(rec, control, probe, machines.get(KINDS[rec.input.kind].binding)!.queue, kills);
        if (why.inKilledReplica) lostInKilledReplica++;
        if (lostDetail.length < 50) lostDetail.push(`${rec.input.kind}-${rec.index}: ${why.text}`);
        continue;
      }
      const error = d.error ?? '';
      if (TIMEOUT_ERRORS.has(error) || d.status === 'TIMED_OUT') {
        timeouts++;
        if (KINDS[rec.input.kind].heartbeat) hbTimeouts++;
        const key = `${rec.input.kind}: ${error || d.status}`;
        timeoutDetail[key] = (timeoutDetail[key] ?? 0) + 1;
        const [task] = await control.tasks({ executionArn: rec.arn! }).catch(() => []);
        if (task?.handedOutAt && task.closedAt) {
          // The silent window that let the clock run out; did a chaos action overlap it?
          const from = task.lastHeartbeatAt ?? task.handedOutAt;
          const overlap = events.find((ev) => ev.at <= task.closedAt! && ev.at + ev.ms + 2_000 >= from);
          if (overlap?.action.startsWith('redis')) timeoutsInRedisOutage++;
          if (timeoutLines.length < 20) {
            const beat = task.lastHeartbeatAt ? `last heartbeat ${task.closedAt - task.lastHeartbeatAt} ms before` : 'no heartbeat';
            const during = overlap ? `; silent window overlaps ${overlap.action} ${overlap.target} (${overlap.ms} ms)` : '';
            timeoutLines.push(`${rec.input.kind}-${rec.index}: ${error} ${task.closedAt - task.handedOutAt} ms after hand-out to ${task.workerName}; ${beat}${during}; consumer runs ${runs?.invocations ?? 0}`);
          }
        }
        continue;
      }
      const e = rec.expected;
      let matches = d.status === e.status;
      if (matches && e.status === 'SUCCEEDED') {
        try {
          const out = JSON.parse(d.output ?? 'null') as { id?: string; kind?: string };
          matches = out?.id === rec.input.id && out?.kind === rec.input.kind;
        } catch {
          matches = false;
        }
      }
      if (matches && e.status === 'FAILED') matches = error === e.error && d.cause === e.cause;
      if (matches) {
        if (e.status === 'SUCCEEDED') succeeded++;
        else failedAsSaid++;
        if (expiredRelay) lateDup++;
      } else {
        wrong++;
        if (error.startsWith('Bridge.')) bridgeFailed++;
        if (wrongDetail.length < 50) {
          wrongDetail.push(`${rec.input.kind}-${rec.index}: expected ${e.status} ${e.error ?? ''}, got ${d.status} ${error} ${(d.cause ?? d.output ?? '').slice(0, 120)}`);
        }
      }
    }
    await probe.quit().catch(() => probe.disconnect());

    const countEvents: Record<string, number> = {};
    for (const ev of events) countEvents[ev.action] = (countEvents[ev.action] ?? 0) + 1;
    const closedRejected =
      (counters.errors.SendTaskSuccess?.TaskTimedOut ?? 0) + (counters.errors.SendTaskFailure?.TaskTimedOut ?? 0);
    const rows: ChaosRow[] = [
      { label: 'executions started', value: startedRecs.length, rule: 'info', note: startErrors ? `${startErrors} StartExecution errors` : undefined },
      { label: 'succeeded (output as the worker returned)', value: succeeded, rule: 'info' },
      { label: 'failed as the worker said (error + cause)', value: failedAsSaid, rule: 'info' },
      { label: 'ended otherwise than the worker said', value: wrong, rule: 'zero', note: bridgeFailed ? `${bridgeFailed} failed by the bridge (Bridge.*)` : undefined },
      { label: 'lost (never terminal within the bound)', value: lost - lostInKilledReplica, rule: 'zero' },
      {
        label: 'lost: token in a SIGKILLed replica, not yet written',
        value: lostInKilledReplica,
        rule: 'info',
        note: lostInKilledReplica ? `Step Functions times them out after TimeoutSeconds=${opts.taskTimeoutSeconds}` : undefined,
      },
      { label: 'timed out because of the bridge', value: timeouts, rule: 'zero', note: timeouts ? `${hbTimeouts} heartbeat-needing; ${timeoutsInRedisOutage} went silent during a Redis restart` : undefined },
      { label: 'relayed twice: second result accepted', value: secondAccepted, rule: 'zero' },
      {
        label: 'relayed twice: late duplicate attempt rejected',
        value: lateDup,
        rule: 'info',
        note: `emulator: ${closedRejected} SendTaskSuccess/Failure answered TaskTimedOut`,
      },
      { label: 'duplicate jobs (2+ jobs for one task)', value: dupJobs, rule: 'zero' },
      { label: 'duplicate runs (beyond the retry schedule)', value: dupRuns, rule: 'zero' },
    ];
    ok = rows.every((r) => r.rule !== 'zero' || r.value === 0) && startedRecs.length > 0;
    const summary: ChaosSummary = {
      ok,
      seconds: runSeconds,
      options: { ...opts, log: undefined } as unknown as Omit<ChaosOptions, 'log'>,
      rows,
      events: countEvents,
      lostDetail,
      wrongDetail,
      timeoutLines,
      timeoutDetail,
      counters: {
        calls: counters.calls,
        errors: counters.errors,
        faultsFired: counters.faultsFired,
        closes: counters.closes,
        duplicateSendTask: counters.duplicateSendTask,
        heartbeats: counters.heartbeats,
        pollsAbandoned: counters.pollsAbandoned,
      },
      relayOutcomes,
      logDir: ok && !opts.keep ? undefined : dir,
    };
    return summary;
  } finally {
    await consumers?.close().catch(() => undefined);
    sfn?.destroy();
    // Bridges first (graceful, bounded), then the emulator and Redis.
    const [redisChild, emulatorChild, ...bridgeChildren] = children;
    await Promise.allSettled(bridgeChildren.map((b) => b.stop('SIGTERM', 15_000)));
    await Promise.allSettled([emulatorChild, redisChild].filter(Boolean).map((c) => c.stop('SIGTERM', 5_000)));
    await Promise.allSettled(children.map((c) => c.close()));
    if (ok && !opts.keep) rmSync(dir, { recursive: true, force: true });
  }
}

async function explainLost(
  rec: ExecRecord,
  control: SfnLocalControl,
  redis: IORedis,
  queue: string,
  kills: KillRecord[],
): Promise<{ text: string; inKilledReplica: boolean }> {
  const [task] = await control.tasks({ executionArn: rec.arn! });
  if (!task) return { text: 'no task record', inKilledReplica: false };
  if (task.status === 'pending') return { text: 'task never handed out (no poll took it)', inKilledReplica: false };
  const hash = task.tokenHash!;
  const [child, relay] = await Promise.all([
    redis.hget(`${PREFIX}:${queue}:${hash}`, 'finishedOn').then((v) => v, () => null),
    redis.exists(`${PREFIX}:${RELAY_QUEUE}:${hash}`).then((v) => v, () => 0),
  ]);
  const childExists = await redis.exists(`${PREFIX}:${queue}:${hash}`).then((v) => v, () => 0);
  const kill = kills.find((k) => k.workerName === task.workerName);
  const since = kill && task.handedOutAt ? kill.at - task.handedOutAt : undefined;
  const where = `handed to ${task.workerName}${since !== undefined ? ` ${since} ms before its ${kill!.signal}` : ''}`;
  if (!childExists && !relay) {
    // Handed out shortly before the SIGKILL (or in the instant the dying process's sockets were
    // still open): the token was only in that process's memory. Nothing can save it.
    const inKilled = !!kill && kill.signal === 'SIGKILL' && since !== undefined && since >= -2_000 && since < 35_000;
    return { text: `${task.status}, ${where}; no job in Redis (token never written)`, inKilledReplica: inKilled };
  }
  return { text: `${task.status}, ${where}; child ${childExists ? (child ? 'finished' : 'not finished') : 'missing'}, relay ${relay ? 'present' : 'missing'}`, inKilledReplica: false };
}

/** The table printed at the end. */
export function formatSummary(s: ChaosSummary): string {
  const width = Math.max(...s.rows.map((r) => r.label.length));
  const lines = [
    '',
    `chaos run: ${s.options.executions} executions requested, ${s.options.replicas} bridge replica(s), seed ${s.options.seed}, ${s.seconds.toFixed(0)} s`,
    `chaos actions: ${Object.entries(s.events).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}; faults fired: ${Object.entries(s.counters.faultsFired).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`,
    '',
    `  ${'metric'.padEnd(width)}  ${'count'.padStart(6)}  rule`,
    `  ${'-'.repeat(width)}  ------  ----`,
    ...s.rows.map((r) => {
      const bad = r.rule === 'zero' && r.value !== 0;
      return `  ${r.label.padEnd(width)}  ${String(r.value).padStart(6)}  ${r.rule === 'zero' ? (bad ? 'MUST BE 0' : 'must be 0') : 'reported'}${r.note ? `  (${r.note})` : ''}`;
    }),
    '',
    `relay job outcomes: ${Object.entries(s.relayOutcomes).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `emulator: calls ${Object.entries(s.counters.calls).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `emulator: closes ${Object.entries(s.counters.closes).map(([k, v]) => `${k} ${v}`).join(', ')}; SendTask* on closed tasks ${s.counters.duplicateSendTask}; heartbeats ${s.counters.heartbeats}`,
  ];
  if (Object.keys(s.timeoutDetail).length) lines.push(`timeouts: ${Object.entries(s.timeoutDetail).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (s.timeoutLines.length) lines.push('timed out (first 20):', ...s.timeoutLines.map((l) => `  ${l}`));
  if (s.lostDetail.length) lines.push('lost (first 50):', ...s.lostDetail.map((l) => `  ${l}`));
  if (s.wrongDetail.length) lines.push('wrong (first 50):', ...s.wrongDetail.map((l) => `  ${l}`));
  lines.push('', s.ok ? 'RESULT: OK' : 'RESULT: FAILED', ...(s.logDir ? [`logs: ${s.logDir}`] : []), '');
  return lines.join('\n');
}
