import { sleep } from '@bridge/common';
import { between } from './random';

/**
 * The chaos workload. Each execution runs one Task state on one of four activities (bindings);
 * its input says what the consumer does, so the expected end of every execution is known.
 */
export type Kind = 'fast' | 'fail' | 'slow' | 'retry' | 'exhaust' | 'heartbeat' | 'heartbeat-progress';
export type BindingKey = 'quick' | 'slow' | 'flaky' | 'hb';

export interface BindingPlan {
  key: BindingKey;
  pollers: number;
  maxPending: number;
  attempts: number;
  backoff?: { type: 'fixed' | 'exponential'; delay: number };
  /** Bridge heartbeat interval for the binding (undefined: HEARTBEAT_DEFAULT_SECONDS). */
  heartbeatSeconds?: number;
  /** The Task state sets HeartbeatSeconds (its value: --task-heartbeat-seconds). */
  taskHeartbeat?: boolean;
  /** Consumer concurrency (in-process BullMQ worker). */
  concurrency: number;
}

export const BINDINGS: Record<BindingKey, BindingPlan> = {
  quick: { key: 'quick', pollers: 8, maxPending: 300, attempts: 1, concurrency: 32 },
  slow: { key: 'slow', pollers: 4, maxPending: 200, attempts: 1, concurrency: 100 },
  flaky: { key: 'flaky', pollers: 4, maxPending: 200, attempts: 3, backoff: { type: 'fixed', delay: 150 }, concurrency: 32 },
  hb: { key: 'hb', pollers: 4, maxPending: 150, attempts: 1, heartbeatSeconds: 1, taskHeartbeat: true, concurrency: 150 },
};

export const KINDS: Record<Kind, { binding: BindingKey; weight: number; heartbeat: boolean }> = {
  fast: { binding: 'quick', weight: 45, heartbeat: false },
  fail: { binding: 'quick', weight: 10, heartbeat: false },
  slow: { binding: 'slow', weight: 15, heartbeat: false },
  retry: { binding: 'flaky', weight: 12, heartbeat: false },
  exhaust: { binding: 'flaky', weight: 3, heartbeat: false },
  heartbeat: { binding: 'hb', weight: 10, heartbeat: true },
  'heartbeat-progress': { binding: 'hb', weight: 5, heartbeat: true },
};

/** The task input (the consumer's `job.data`). */
export interface TaskInput {
  id: string;
  kind: Kind;
  workMs: number;
  /** retry/exhaust: the first `failTimes` invocations throw TransientGlitch. */
  failTimes?: number;
}

export interface Expected {
  status: 'SUCCEEDED' | 'FAILED';
  error?: string;
  cause?: string;
  /** How many times the consumer runs the job when nothing goes wrong. */
  invocations: number;
}

/** Custom consumer errors: `name` is set, so Step Functions sees it (the consumer contract). */
export class ChaosDeclined extends Error {
  override name = 'ChaosDeclined';
}
export class TransientGlitch extends Error {
  override name = 'TransientGlitch';
}

export function chooseKind(random: () => number, allowed: readonly Kind[]): Kind {
  const total = allowed.reduce((n, k) => n + KINDS[k].weight, 0);
  let r = random() * total;
  for (const k of allowed) {
    r -= KINDS[k].weight;
    if (r < 0) return k;
  }
  return allowed[allowed.length - 1];
}

export function makeInput(random: () => number, index: number, kind: Kind, heartbeatWorkMs: [number, number]): TaskInput {
  const id = `t${index}`;
  switch (kind) {
    case 'fast':
      return { id, kind, workMs: between(random, 0, 20) };
    case 'fail':
      return { id, kind, workMs: between(random, 0, 50) };
    case 'slow':
      return { id, kind, workMs: between(random, 300, 2_000) };
    case 'retry':
      return { id, kind, workMs: between(random, 0, 50), failTimes: between(random, 1, BINDINGS.flaky.attempts - 1) };
    case 'exhaust':
      return { id, kind, workMs: between(random, 0, 50), failTimes: BINDINGS.flaky.attempts };
    case 'heartbeat':
    case 'heartbeat-progress':
      return { id, kind, workMs: between(random, heartbeatWorkMs[0], heartbeatWorkMs[1]) };
  }
}

export function expectedOf(input: TaskInput): Expected {
  switch (input.kind) {
    case 'fail':
      return { status: 'FAILED', error: 'ChaosDeclined', cause: `declined ${input.id}`, invocations: 1 };
    case 'exhaust':
      return {
        status: 'FAILED',
        error: 'TransientGlitch',
        cause: `glitch ${input.id} attempt ${input.failTimes}`,
        invocations: input.failTimes!,
      };
    case 'retry':
      return { status: 'SUCCEEDED', invocations: input.failTimes! + 1 };
    default:
      return { status: 'SUCCEEDED', invocations: 1 };
  }
}

/**
 * What the consumer does with one job. `invocation` counts this job's runs (1-based), kept by the
 * consumer itself, so a retry schedule does not depend on BullMQ's attempt counters.
 */
export async function perform(
  input: TaskInput,
  invocation: number,
  progress: (p: number) => Promise<void>,
): Promise<{ id: string; kind: Kind; invocation: number }> {
  if (input.kind === 'heartbeat-progress') {
    const steps = Math.max(1, Math.ceil(input.workMs / 1_000));
    for (let i = 1; i <= steps; i++) {
      await sleep(input.workMs / steps);
      await progress(Math.round((i / steps) * 100));
    }
  } else if (input.workMs > 0) {
    await sleep(input.workMs);
  }
  if (input.kind === 'fail') throw new ChaosDeclined(`declined ${input.id}`);
  if (input.failTimes !== undefined && invocation <= input.failTimes) {
    throw new TransientGlitch(`glitch ${input.id} attempt ${invocation}`);
  }
  return { id: input.id, kind: input.kind, invocation };
}
