import type { JobEndHeard } from '@bridge/queue';
import { bridgeFailure, failureOutcome, successOutcome, TaskOutcome } from './outcome';

/**
 * How a task's job ended, as the relay learns it: from the binding queue's event stream
 * (`completed` carries the return value, `failed` the final failure's reason, `removed` a job gone
 * before it finished), or `found` by a heartbeat that saw the job finished with no relay (its event
 * was missed: read from the job itself).
 */
export type JobEndKind = 'completed' | 'failed' | 'removed' | 'found';

export interface JobEnd {
  queue: string;
  jobId: string;
  kind: JobEndKind;
  /** `completed`: the return value as BullMQ stored it (JSON). */
  returnvalue?: string;
  /** `failed`: BullMQ's failed reason (the error message). */
  failedReason?: string;
}

/** The job's fields the relay reads with its claim, per kind: never `data` (the input, up to 256 KB). */
const TIMINGS = ['timestamp', 'processedOn', 'finishedOn'] as const;
export const JOB_FIELDS: Record<JobEndKind, readonly string[]> = {
  completed: TIMINGS,
  failed: [...TIMINGS, 'stacktrace', 'failedReason'],
  removed: [],
  found: [...TIMINGS, 'stacktrace', 'failedReason', 'returnvalue'],
};

/** The consumer's job outcome plus its timings (ms since epoch) for metrics. */
export interface ResolvedOutcome {
  outcome: TaskOutcome;
  job?: { timestamp: number; processedOn?: number; finishedOn?: number };
}

/**
 * What to send for a job end: its return value, or its final failure (the reason, and the error
 * name from the stack traces: docs/design.md section 2), or Bridge.JobMissing for a job removed
 * before it finished. `fields` are the job's JOB_FIELDS[end.kind], in order (undefined where absent).
 * A job found finished is a success if it has a return value (a job that failed before it succeeded
 * keeps its last failed reason too), else a failure.
 */
export function resolveOutcome(end: JobEnd, fields: readonly (string | undefined)[]): ResolvedOutcome {
  const job = jobTimings(fields);
  if (end.kind === 'completed') return { outcome: storedSuccess(end.returnvalue), job };
  if (end.kind === 'failed') {
    const [, , , stacktrace, storedReason] = fields;
    return { outcome: failureOutcome(end.failedReason ?? storedReason ?? '', parseStacktrace(stacktrace)), job };
  }
  if (end.kind === 'found' && job) {
    const [, , , stacktrace, failedReason, returnvalue] = fields;
    if (returnvalue !== undefined || failedReason === undefined) return { outcome: storedSuccess(returnvalue), job };
    return { outcome: failureOutcome(failedReason, parseStacktrace(stacktrace)), job };
  }
  return {
    outcome: bridgeFailure(
      'JobMissing',
      `The job for this task on queue "${end.queue}" was removed before it finished, so it has no result`,
    ),
  };
}

/** BullMQ stores the return value as JSON (no value: none, or `null`); anything else is refused clearly. */
function storedSuccess(raw: string | undefined): TaskOutcome {
  if (!raw) return successOutcome(null);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    return bridgeFailure('OutputNotSerializable', `the job's stored return value is not JSON: ${(err as Error).message}`);
  }
  return successOutcome(value);
}

function jobTimings(fields: readonly (string | undefined)[]): ResolvedOutcome['job'] {
  const [timestamp, processedOn, finishedOn] = fields;
  if (!timestamp) return undefined; // the job is gone (removed), or no fields were read
  return { timestamp: Number(timestamp), processedOn: optionalNumber(processedOn), finishedOn: optionalNumber(finishedOn) };
}

function optionalNumber(value: string | undefined): number | undefined {
  return value ? Number(value) : undefined;
}

/** BullMQ stores the stack traces as a JSON array; a missing or unreadable one is none (as Job.fromJSON does). */
function parseStacktrace(raw: string | undefined): string[] | undefined {
  if (!raw) return undefined;
  try {
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) ? (parsed as string[]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A second end of a job joins the relay already waiting or running for it (RelayService.relay).
 * If the first told less (a heartbeat's `found`, which reads the job and finds nothing once
 * `removeOnComplete` deleted it; or `removed`) and the second is the job's own `completed` or
 * `failed` event, the relay takes the event's end from then on: its next claim keeps it (unless
 * an earlier claim kept an end already: the record's first end stands, on every replica) and its
 * send resolves it, so a task whose event was still unread is not failed as Bridge.JobMissing.
 */
export function joinEnd(relaying: JobEnd, next: JobEnd): void {
  const told = (e: JobEnd) => e.kind === 'completed' || e.kind === 'failed';
  if (told(relaying) || !told(next)) return;
  relaying.kind = next.kind;
  relaying.returnvalue = next.returnvalue;
  relaying.failedReason = next.failedReason;
}

/** How the job ended as this end heard it, for a claim to keep; undefined for a heartbeat's find. */
export function heardOf(end: JobEnd): JobEndHeard | undefined {
  switch (end.kind) {
    case 'completed':
      return { kind: 'completed', value: end.returnvalue ?? '' };
    case 'failed':
      return { kind: 'failed', value: end.failedReason ?? '' };
    case 'removed':
      return { kind: 'removed', value: '' };
    default:
      return undefined;
  }
}

/** The job end to resolve: the one an earlier claim kept (`kept`, when the claim returned it), else `end`. */
export function keptOr(end: JobEnd, kept: JobEndHeard | undefined): JobEnd {
  if (!kept) return end;
  const { queue, jobId } = end;
  if (kept.kind === 'completed') return { queue, jobId, kind: 'completed', returnvalue: kept.value };
  if (kept.kind === 'failed') return { queue, jobId, kind: 'failed', failedReason: kept.value };
  return { queue, jobId, kind: 'removed' };
}
