import { errorNameFromStack, isPythonTraceback } from './error-name';
import { SFN_LIMITS } from './limits';
import { bridgeFailure, TaskOutcome } from './task-outcome';
import { truncateText } from './truncate';

/*
 * What BullMQ (v6.7, Node) stores for a job whose processor throws:
 * - `Worker.handleFailed(err)` -> `Job.moveToFailed(err)` sets `failedReason = err?.message`
 *   (so a thrown non-Error, e.g. a string, leaves it undefined) and writes it to the job hash.
 * - `Job.updateStacktrace(err)` pushes `err.stack` (only if truthy) onto `stacktrace`, one entry
 *   per failed attempt, the last entry being the latest attempt. `opts.stackTraceLimit` keeps
 *   only the last N entries (`slice(-N)`); `0` empties the array; unset keeps all.
 * - `err.name` is not stored by itself, only as the first line of `err.stack`.
 * - Jobs failed for other reasons (stalled too often, lock lost) have a reason and no new trace.
 * BullMQ for Python stores `failedReason = json.dumps(str(err))` (quoted JSON string) and
 * `traceback.format_exc()` as the stack trace.
 */

/**
 * Maps a failed job to a task failure: `error` = the exception name, `cause` = its message.
 *
 * 1. The name comes from the last stack trace entry (`errorNameFromStack`). When that entry is
 *    a Python traceback, a `failedReason` that parses as a JSON string is decoded.
 * 2. A (decoded) `failedReason` that is exactly a JSON object `{"error": string, "cause"?: string}`
 *    (no other keys) is taken as given, overriding the stack name.
 * 3. Defaults: `error` = `Error`, `cause` = the (decoded) reason or `''`.
 * 4. `error` and `cause` are truncated to 256 and 32,768 characters, with a marker.
 * A Node job failed by BullMQ itself because its return value is not JSON-encodable becomes
 * `Bridge.OutputNotSerializable`.
 */
export function failureOutcome(failedReason: string | undefined | null, stacktrace: string[] | undefined | null): TaskOutcome {
  const trace = lastTrace(stacktrace);
  if (trace !== undefined && isUnserializableReturn(trace)) {
    return bridgeFailure(
      'OutputNotSerializable',
      `The job's return value cannot be encoded as JSON (${failedReason ?? 'TypeError'}); BullMQ failed the job when storing it`,
    );
  }
  let reason = typeof failedReason === 'string' ? failedReason : undefined;
  if (reason !== undefined && trace !== undefined && isPythonTraceback(trace)) {
    reason = decodeJsonString(reason) ?? reason;
  }

  const given = reason === undefined ? undefined : parseGivenError(reason);
  const error = given?.error ?? (trace === undefined ? undefined : errorNameFromStack(trace)) ?? 'Error';
  const cause = given ? given.cause : (reason ?? '');
  return {
    kind: 'failure',
    error: truncateText(error, SFN_LIMITS.errorChars),
    cause: truncateText(cause, SFN_LIMITS.causeChars),
  };
}

/**
 * A Node worker returned a value JSON cannot encode (BigInt, a cycle): BullMQ's own
 * `JSON.stringify` of the return value threw inside `Worker.handleCompleted`, failing the job.
 */
function isUnserializableReturn(trace: string): boolean {
  return trace.startsWith('TypeError') && /\bat JSON\.stringify\b/.test(trace) && trace.includes('handleCompleted');
}

/** The latest attempt's trace: the last entry that is a non-blank string. */
function lastTrace(stacktrace: string[] | undefined | null): string | undefined {
  if (!Array.isArray(stacktrace)) return undefined;
  for (let i = stacktrace.length - 1; i >= 0; i--) {
    const entry: unknown = stacktrace[i];
    if (typeof entry === 'string' && entry.trim() !== '') return entry;
  }
  return undefined;
}

function decodeJsonString(text: string): string | undefined {
  if (!text.trimStart().startsWith('"')) return undefined;
  const value = tryParseJson(text);
  return typeof value === 'string' ? value : undefined;
}

function parseGivenError(text: string): { error: string; cause: string } | undefined {
  if (!text.trimStart().startsWith('{')) return undefined;
  const value = tryParseJson(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  if (!Object.keys(record).every((key) => key === 'error' || key === 'cause')) return undefined;
  if (typeof record.error !== 'string' || record.error === '') return undefined;
  if (record.cause !== undefined && typeof record.cause !== 'string') return undefined;
  return { error: record.error, cause: record.cause ?? '' };
}

function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
