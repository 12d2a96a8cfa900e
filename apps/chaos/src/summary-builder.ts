import type { ChaosEvent } from './chaos-monkey';
import type { ChaosOptions } from './chaos-options';
import type { ChaosRow, ChaosSummary } from './chaos-summary';
import type { DispatchFigures } from './dispatch-sampler';
import type { ChaosTally } from './result-collector';

export interface SummaryInput {
  opts: ChaosOptions;
  tally: ChaosTally;
  startErrors: number;
  events: ChaosEvent[];
  redis: ChaosSummary['redis'];
  runSeconds: number;
  /** The run's temporary directory (logs, AOF); reported unless the run passed without `keep`. */
  dir: string;
  dispatch: { all: DispatchFigures; clear: DispatchFigures };
}

/** The report rows; every 'zero' row must be 0 for the run to pass. */
function buildRows(opts: ChaosOptions, t: ChaosTally, startErrors: number): ChaosRow[] {
  const closedRejected = (t.counters.errors.SendTaskSuccess?.TaskTimedOut ?? 0) + (t.counters.errors.SendTaskFailure?.TaskTimedOut ?? 0);
  const sigkills = t.sigkills;
  return [
    { label: 'executions started', value: t.started, rule: 'info', note: startErrors ? `${startErrors} StartExecution errors` : undefined },
    { label: 'succeeded (output as the worker returned)', value: t.succeeded, rule: 'info' },
    { label: 'failed as the worker said (error + cause)', value: t.failedAsSaid, rule: 'info' },
    {
      label: 'ended otherwise than the worker said',
      value: t.wrong,
      rule: 'zero',
      note: t.bridgeFailed ? `${t.bridgeFailed} failed by the bridge (Bridge.*)` : undefined,
    },
    { label: 'lost (never terminal within the bound)', value: t.lost - t.lostInKilledReplica, rule: 'zero' },
    {
      label: 'lost: token in a SIGKILLed replica, not yet written',
      value: t.lostInKilledReplica,
      rule: 'info',
      note: t.lostInKilledReplica
        ? `Step Functions times them out after HeartbeatSeconds (heartbeat tasks) or TimeoutSeconds=${opts.taskTimeoutSeconds}`
        : undefined,
    },
    {
      label: 'timed out because of the bridge',
      value: t.timeouts,
      rule: 'zero',
      note: t.timeouts ? `${t.hbTimeouts} heartbeat-needing; ${t.timeoutsInRedisOutage} went silent during a Redis restart` : undefined,
    },
    { label: 'relayed twice: second result accepted', value: t.secondAccepted, rule: 'zero' },
    {
      label: 'relayed twice: second result sent (accepted or rejected)',
      value: t.counters.secondResults,
      rule: 'zero',
      note: `emulator: ${closedRejected} SendTaskSuccess/Failure answered TaskTimedOut in all (late first results included); relays recovered by a probe: ${t.recovered}`,
    },
    {
      label: 'tokens lost per SIGKILL (not yet written)',
      value: sigkills ? Math.round((t.lostInKilledReplica / sigkills) * 100) / 100 : 0,
      rule: 'info',
      note: `${t.lostInKilledReplica} in ${sigkills} SIGKILL(s)`,
    },
    { label: 'duplicate jobs (2+ jobs for one task)', value: t.dupJobs, rule: 'zero' },
    { label: 'duplicate runs (beyond the retry schedule)', value: t.dupRuns, rule: 'zero' },
  ];
}

/** The summary (and verdict) of a run. */
export function buildSummary({ opts, tally, startErrors, events, redis, runSeconds, dir, dispatch }: SummaryInput): ChaosSummary {
  const countEvents: Record<string, number> = {};
  for (const ev of events) countEvents[ev.action] = (countEvents[ev.action] ?? 0) + 1;
  const rows = buildRows(opts, tally, startErrors);
  const ok = rows.every((r) => r.rule !== 'zero' || r.value === 0) && tally.started > 0;
  const { counters } = tally;
  return {
    ok,
    seconds: runSeconds,
    options: { ...opts, log: undefined } as unknown as Omit<ChaosOptions, 'log'>,
    rows,
    events: countEvents,
    redis,
    lostDetail: tally.lostDetail,
    unwrittenDetail: tally.unwrittenDetail,
    wrongDetail: tally.wrongDetail,
    timeoutLines: tally.timeoutLines,
    timeoutDetail: tally.timeoutDetail,
    counters: {
      calls: counters.calls,
      errors: counters.errors,
      faultsFired: counters.faultsFired,
      closes: counters.closes,
      duplicateSendTask: counters.duplicateSendTask,
      secondResults: counters.secondResults,
      heartbeats: counters.heartbeats,
      pollsAbandoned: counters.pollsAbandoned,
    },
    relayOutcomes: tally.relayOutcomes,
    dispatch: dispatch.all,
    dispatchClearOfRedisOutages: dispatch.clear,
    silence: tally.silence,
    secondResultLines: tally.secondResultLines,
    logDir: ok && !opts.keep ? undefined : dir,
  };
}
