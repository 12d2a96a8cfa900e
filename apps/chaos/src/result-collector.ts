import {
  DescribeExecutionCommand,
  DescribeExecutionCommandOutput,
  GetExecutionHistoryCommand,
  HistoryEvent,
  SFNClient,
} from '@aws-sdk/client-sfn';
import type { Cluster, Redis } from 'ioredis';
import type { SfnLocalControl } from '../../sfn-local/src/control-client';
import type { SfnLocalCounters } from '../../sfn-local/src/counters';
import { mapLimit } from './async-utils';
import type { ChaosMonkey } from './chaos-monkey';
import type { Consumers } from './consumers';
import { heartbeatSilences, SilenceFigures } from './heartbeat-silence';
import { explainLost } from './lost-explainer';
import { MachineRef, machineOf } from './sfn-resources';
import { TaskStateReader } from './task-state';
import { describeTaskEnd } from './relay-outcomes';
import { KINDS, BindingKey } from './workload';
import type { ExecRecord } from './workload-driver';

const TIMEOUT_ERRORS = new Set(['States.Timeout', 'States.HeartbeatTimeout']);

/** What became of the started executions, as counts and (bounded) detail lines. */
export interface ChaosTally {
  started: number;
  succeeded: number;
  failedAsSaid: number;
  lost: number;
  lostInKilledReplica: number;
  wrong: number;
  bridgeFailed: number;
  timeouts: number;
  hbTimeouts: number;
  timeoutsInRedisOutage: number;
  secondAccepted: number;
  dupJobs: number;
  dupRuns: number;
  /** Tasks whose record closed as `recovered` (a probe found an earlier attempt's result landed). */
  recovered: number;
  sigkills: number;
  /** Executions lost for good (the zero rule), first 50. */
  lostDetail: string[];
  /** Tokens that died unwritten with a SIGKILLed replica (the accepted crash window), first 50. */
  unwrittenDetail: string[];
  wrongDetail: string[];
  timeoutDetail: Record<string, number>;
  timeoutLines: string[];
  /** Task records by how they ended (`relayed success`, `expired TaskTimedOut`, ..., `open`). */
  relayOutcomes: Record<string, number>;
  counters: SfnLocalCounters;
  silence: SilenceFigures;
  /** Tasks that got a second result: when, against the chaos actions (first 20). */
  secondResultLines: string[];
}

export interface CollectContext {
  sfn: SFNClient;
  control: SfnLocalControl;
  /** A client for the read-out of lost executions' Redis state, and the prefix their keys are under. */
  probe: () => Redis | Cluster;
  prefix: string;
  consumers: Consumers;
  machines: Map<BindingKey, MachineRef>;
  /** The executions StartExecution accepted. */
  started: ExecRecord[];
  monkey: ChaosMonkey;
  /** Heartbeat-silence bound (ms) of a binding: its interval + the claim lease. */
  silenceBoundMs: (kind: ExecRecord['input']['kind']) => number;
  /** The run's start (epoch ms): the read-out gives times relative to it. */
  runStartedAt: number;
}

async function historyOf(sfn: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken }));
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/**
 * Reads every started execution's end (Describe + history), the emulator's counters, the
 * consumers' run counts and the task records' ends, and sorts each execution: as the worker said,
 * otherwise, lost (explained), timed out (attributed to a chaos action when one overlaps).
 */
export async function collectResults(ctx: CollectContext): Promise<ChaosTally> {
  const { sfn, control, consumers, started: startedRecs } = ctx;
  const { events, kills } = ctx.monkey;
  const described = await mapLimit(startedRecs, 16, (r) => sfn.send(new DescribeExecutionCommand({ executionArn: r.arn! })));
  const histories = await mapLimit(startedRecs, 16, (r) => historyOf(sfn, r.arn!));
  const counters = await control.counters();
  const taskRecords = await mapLimit(startedRecs, 16, (r) => control.tasks({ executionArn: r.arn! }).catch(() => []));
  /** Executions whose token died unwritten with a SIGKILLed replica: no heartbeat silence to measure. */
  const unwrittenTokens = new Set<number>();
  const probe = ctx.probe();
  const state = new TaskStateReader(probe, ctx.prefix);
  // The last sweep of the task records: how the bridge ended each task (open ones count as `open`).
  await consumers.outcomes.sweep().catch(() => consumers.outcomes.failedSweeps++);

  const t: Omit<ChaosTally, 'silence'> = {
    started: startedRecs.length,
    succeeded: 0,
    failedAsSaid: 0,
    lost: 0,
    lostInKilledReplica: 0,
    wrong: 0,
    bridgeFailed: 0,
    timeouts: 0,
    hbTimeouts: 0,
    timeoutsInRedisOutage: 0,
    secondAccepted: 0,
    dupJobs: 0,
    dupRuns: 0,
    recovered: 0,
    sigkills: kills.filter((k) => k.signal === 'SIGKILL').length,
    lostDetail: [],
    unwrittenDetail: [],
    wrongDetail: [],
    timeoutDetail: {},
    timeoutLines: [],
    relayOutcomes: consumers.outcomes.tally(),
    counters,
    secondResultLines: startedRecs
      .flatMap((r, i) =>
        taskRecords[i]
          .filter((task) => task.secondResults > 0)
          .map((task) => {
            const at = task.secondResultAt?.[0] ?? 0;
            const near = events.filter((ev) => ev.at <= at && ev.at + ev.ms + 15_000 >= (task.closedAt ?? at));
            const record = describeTaskEnd(task.tokenHash ? consumers.outcomes.byJob.get(task.tokenHash) : undefined);
            return `${r.input.kind}-${r.index}: ${task.secondResults} second result(s), the first ${at - (task.closedAt ?? at)} ms after the task closed (${task.closeReason}, handed to ${task.workerName}; task record ${record})${near.length ? `; near ${near.map((ev) => `${ev.action} ${ev.target}`).join(', ')}` : ''}`;
          }),
      )
      .slice(0, 20),
  };

  for (let i = 0; i < startedRecs.length; i++) {
    const rec = startedRecs[i];
    const d: DescribeExecutionCommandOutput = described[i];
    const hist = histories[i];
    const accepted = hist.filter((e) => e.type === 'ActivitySucceeded' || e.type === 'ActivityFailed').length;
    if (accepted > 1) t.secondAccepted++;
    const runs = consumers.runs.get(rec.input.id);
    if (runs && runs.jobIds.size > 1) t.dupJobs++;
    if (runs && (runs.invocations > rec.expected.invocations || runs.overlapping > 0)) t.dupRuns++;
    const jobIds = new Set([...(runs?.jobIds ?? []), ...taskRecords[i].flatMap((task) => (task.tokenHash ? [task.tokenHash] : []))]);
    if ([...jobIds].some((id) => consumers.outcomes.byJob.get(id)?.closed === 'recovered')) t.recovered++;

    if (d.status === 'RUNNING') {
      t.lost++;
      const why = await explainLost(rec, control, state, machineOf(ctx.machines, rec.input.kind).queue, kills);
      const lines = why.inKilledReplica ? t.unwrittenDetail : t.lostDetail;
      if (why.inKilledReplica) t.lostInKilledReplica++;
      if (lines.length < 50) lines.push(`${rec.input.kind}-${rec.index}: ${why.text}`);
      continue;
    }
    const error = d.error ?? '';
    if (TIMEOUT_ERRORS.has(error) || d.status === 'TIMED_OUT') {
      // A heartbeat task whose token died unwritten with a SIGKILLed replica times out after its
      // HeartbeatSeconds instead of staying RUNNING: lost in the killed replica, not a bridge timeout.
      const unwritten = await explainLost(rec, control, state, machineOf(ctx.machines, rec.input.kind).queue, kills);
      if (unwritten.inKilledReplica) {
        unwrittenTokens.add(i);
        t.lost++;
        t.lostInKilledReplica++;
        if (t.unwrittenDetail.length < 50)
          t.unwrittenDetail.push(`${rec.input.kind}-${rec.index}: ${error || d.status}: ${unwritten.text}`);
        continue;
      }
      t.timeouts++;
      if (KINDS[rec.input.kind].heartbeat) t.hbTimeouts++;
      const key = `${rec.input.kind}: ${error || d.status}`;
      t.timeoutDetail[key] = (t.timeoutDetail[key] ?? 0) + 1;
      const [task] = await control.tasks({ executionArn: rec.arn! }).catch(() => []);
      if (task?.handedOutAt && task.closedAt) {
        // The silent window that let the clock run out; did a chaos action overlap it?
        const from = task.lastHeartbeatAt ?? task.handedOutAt;
        const overlap = events.find((ev) => ev.at <= task.closedAt! && ev.at + ev.ms + 2_000 >= from);
        if (overlap?.action.startsWith('redis')) t.timeoutsInRedisOutage++;
        if (t.timeoutLines.length < 20) {
          const beat = task.lastHeartbeatAt ? `last heartbeat ${task.closedAt - task.lastHeartbeatAt} ms before` : 'no heartbeat';
          const during = overlap ? `; silent window overlaps ${overlap.action} ${overlap.target} (${overlap.ms} ms)` : '';
          t.timeoutLines.push(
            `${rec.input.kind}-${rec.index}: ${error} ${task.closedAt - task.handedOutAt} ms after hand-out to ${task.workerName}; ${beat}${during}; consumer runs ${runs?.invocations ?? 0}`,
          );
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
      if (e.status === 'SUCCEEDED') t.succeeded++;
      else t.failedAsSaid++;
    } else {
      t.wrong++;
      if (error.startsWith('Bridge.')) t.bridgeFailed++;
      if (t.wrongDetail.length < 50) {
        t.wrongDetail.push(
          `${rec.input.kind}-${rec.index}: expected ${e.status} ${e.error ?? ''}, got ${d.status} ${error} ${(d.cause ?? d.output ?? '').slice(0, 120)}`,
        );
      }
    }
  }
  await probe.quit().catch(() => probe.disconnect());
  const silence = heartbeatSilences(
    startedRecs.flatMap((r, i) =>
      unwrittenTokens.has(i)
        ? []
        : taskRecords[i].map((task) => ({ label: `${r.input.kind}-${r.index}`, task, boundMs: ctx.silenceBoundMs(r.input.kind) })),
    ),
    events,
    ctx.runStartedAt,
  );
  return { ...t, silence };
}
