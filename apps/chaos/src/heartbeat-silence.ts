import type { TaskRecord } from '../../sfn-local/src/task-records';

/** A chaos action as the silence read-out needs it: when it began and how long it took. */
export interface SilenceEvent {
  at: number;
  action: string;
  ms: number;
}

/** The longest heartbeat silences the emulator saw, per token, against the bridge's bound. */
export interface SilenceFigures {
  /** Tokens measured (written to Redis: heartbeated or relayed at least once). */
  tokens: number;
  longestMs: number;
  p99Ms: number;
  /** The bound: the binding's heartbeat interval + the claim lease. */
  boundMs: number;
  overBound: number;
  /**
   * Tokens over the bound by what their longest silence overlapped: a Redis action (restart or
   * failover), a replica SIGKILL/SIGTERM (no Redis action), or no chaos action at all.
   */
  overBoundBy: { redis: number; replica: number; none: number };
  /** The worst few, as text. */
  worst: string[];
}

/** Seconds of slack around an action: its effects (reconnects, restarts) outlast it a little. */
const NEAR_MS = 2_000;

/**
 * Per token: its longest time without a heartbeat (hand-out to first, between two, last to
 * close). Tokens never heartbeated nor relayed (lost with a SIGKILLed replica before their write)
 * are left out: they are counted as lost. Each over-bound silence is put next to the chaos
 * action it overlapped (if any), so a report tells design gaps from injected outages.
 */
export function heartbeatSilences(
  tasks: Array<{ label: string; task: TaskRecord; boundMs: number }>,
  events: SilenceEvent[] = [],
  runStartedAt = 0,
): SilenceFigures {
  const measured = tasks.filter(
    ({ task }) =>
      task.maxSilenceMs !== undefined &&
      (task.lastHeartbeatAt !== undefined ||
        task.closeReason === 'succeeded' ||
        task.closeReason === 'failed' ||
        task.closeReason === 'heartbeatTimedOut'),
  );
  const sorted = [...measured].sort((a, b) => b.task.maxSilenceMs! - a.task.maxSilenceMs!);
  const values = sorted.map((t) => t.task.maxSilenceMs!);
  const boundMs = Math.max(0, ...measured.map((t) => t.boundMs));
  const nearby = (task: TaskRecord): SilenceEvent | undefined => {
    if (task.maxSilenceEndedAt === undefined) return undefined;
    const from = task.maxSilenceEndedAt - task.maxSilenceMs!;
    const overlapping = events.filter((ev) => ev.at - NEAR_MS <= task.maxSilenceEndedAt! && ev.at + ev.ms + NEAR_MS >= from);
    return overlapping.find((ev) => ev.action.startsWith('redis') || ev.action.includes('failover')) ?? overlapping[0];
  };
  const overBoundBy = { redis: 0, replica: 0, none: 0 };
  for (const { task, boundMs: bound } of measured) {
    if (task.maxSilenceMs! <= bound) continue;
    const ev = nearby(task);
    if (!ev) overBoundBy.none++;
    else if (ev.action.startsWith('redis') || ev.action.includes('failover')) overBoundBy.redis++;
    else overBoundBy.replica++;
  }
  const when = (task: TaskRecord): string => {
    if (task.maxSilenceEndedAt === undefined) return '';
    const ev = nearby(task);
    const endedS = ((task.maxSilenceEndedAt - runStartedAt) / 1000).toFixed(1);
    return `, ended at ${endedS} s${ev ? `, next to ${ev.action} at ${((ev.at - runStartedAt) / 1000).toFixed(1)} s` : ''}`;
  };
  return {
    tokens: measured.length,
    longestMs: values[0] ?? 0,
    p99Ms: values[Math.floor(values.length * 0.01)] ?? 0,
    boundMs,
    overBound: measured.filter((t) => t.task.maxSilenceMs! > t.boundMs).length,
    overBoundBy,
    worst: sorted
      .slice(0, 5)
      .map(
        ({ label, task }) =>
          `${label}: ${task.maxSilenceMs} ms silent (handed to ${task.workerName}, ${task.closeReason ?? task.status}${when(task)})`,
      ),
  };
}
