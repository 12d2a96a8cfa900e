import type { TaskRecord } from '../../sfn-local/src/task-records';

/** The longest heartbeat silences the emulator saw, per token, against the bridge's bound. */
export interface SilenceFigures {
  /** Tokens measured (written to Redis: heartbeated or relayed at least once). */
  tokens: number;
  longestMs: number;
  p99Ms: number;
  /** The bound: the binding's heartbeat interval + the claim lease. */
  boundMs: number;
  overBound: number;
  /** The worst few, as text. */
  worst: string[];
}

/**
 * Per token: its longest time without a heartbeat (hand-out to first, between two, last to
 * close). Tokens never heartbeated nor relayed (lost with a SIGKILLed replica before their write)
 * are left out: they are counted as lost.
 */
export function heartbeatSilences(tasks: Array<{ label: string; task: TaskRecord; boundMs: number }>): SilenceFigures {
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
  return {
    tokens: measured.length,
    longestMs: values[0] ?? 0,
    p99Ms: values[Math.floor(values.length * 0.01)] ?? 0,
    boundMs,
    overBound: measured.filter((t) => t.task.maxSilenceMs! > t.boundMs).length,
    worst: sorted
      .slice(0, 5)
      .map(
        ({ label, task }) => `${label}: ${task.maxSilenceMs} ms silent (handed to ${task.workerName}, ${task.closeReason ?? task.status})`,
      ),
  };
}
