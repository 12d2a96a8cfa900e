import type { Emulator } from './emulator';
import type { Task } from './model';
import { tokenHash } from './tokens';

/** Per-task timestamps (epoch ms) for tests and benchmarks. Tokens are referred to by sha256 hex. */
export interface TaskRecord {
  tokenHash?: string;
  executionArn: string;
  activityArn: string;
  stateName: string;
  status: 'pending' | 'started' | 'closed' | 'withdrawn';
  workerName?: string;
  scheduledAt: number;
  handedOutAt?: number;
  closedAt?: number;
  closeReason?: 'succeeded' | 'failed' | 'timedOut' | 'heartbeatTimedOut' | 'aborted';
  lastHeartbeatAt?: number;
  /** The Task state's HeartbeatSeconds, if it sets one. */
  heartbeatSeconds?: number;
  /** Longest silence (ms) between hand-out, heartbeats and close; up to now while still open. */
  maxSilenceMs?: number;
  /** When (epoch ms) that longest silence ended (now, if it still goes on). */
  maxSilenceEndedAt?: number;
  /** SendTaskSuccess/SendTaskFailure calls that reached the task after a result had closed it. */
  secondResults: number;
  /** When (epoch ms) each second result arrived. */
  secondResultAt?: number[];
}

/** Look tasks up by one of: the token itself, its sha256 hex, or an execution ARN (all its tasks). */
export interface TaskQuery {
  token?: string;
  tokenHash?: string;
  executionArn?: string;
}

const openSilenceMs = (t: Task, now: number): number =>
  t.status === 'started' && t.handedOutAt !== undefined ? now - (t.lastHeartbeatAt ?? t.handedOutAt) : 0;

const record = (t: Task, now = Date.now()): TaskRecord => ({
  tokenHash: t.tokenHash,
  executionArn: t.execution.arn,
  activityArn: t.activityArn,
  stateName: t.state.name,
  status: t.status,
  workerName: t.workerName,
  scheduledAt: t.scheduledAt,
  handedOutAt: t.handedOutAt,
  closedAt: t.closedAt,
  closeReason: t.closeReason,
  lastHeartbeatAt: t.lastHeartbeatAt,
  heartbeatSeconds: t.state.heartbeatSeconds,
  maxSilenceMs: t.handedOutAt === undefined ? undefined : Math.max(t.maxSilenceMs ?? 0, openSilenceMs(t, now)),
  maxSilenceEndedAt: openSilenceMs(t, now) > (t.maxSilenceMs ?? 0) ? now : t.maxSilenceEndedAt,
  secondResults: t.secondResults ?? 0,
  secondResultAt: t.secondResultAt ? [...t.secondResultAt] : undefined,
});

export function findTasks(emu: Emulator, q: TaskQuery): TaskRecord[] {
  if (q.executionArn) return (emu.executions.get(q.executionArn)?.tasks ?? []).map((t) => record(t));
  const hash = q.tokenHash ?? (q.token ? tokenHash(q.token) : undefined);
  const t = hash ? emu.tasks.findByHash(hash) : undefined;
  return t ? [record(t)] : [];
}
