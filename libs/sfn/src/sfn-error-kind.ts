/** How the bridge reacts to an error from a Step Functions call. */
export enum SfnErrorKind {
  /** ThrottlingException and friends: back off with jitter, retry. */
  Throttled = 'throttled',
  /** 5xx, resets, timeouts: back off with jitter, retry. */
  Transient = 'transient',
  /** The task is gone (timed out, closed, stopped, never existed): never retry. */
  TaskGone = 'task-gone',
  /** The binding's ARN is wrong or the activity was deleted: binding unhealthy, slow retry. */
  BindingBroken = 'binding-broken',
  /** More than 1,000 parked polls on one ARN: run fewer pollers. */
  WorkerLimit = 'worker-limit',
  /** SendTaskSuccess refused the output (not JSON, too large). */
  InvalidOutput = 'invalid-output',
  /** Anything else (validation, access denied): logged, retried slowly. */
  Other = 'other',
}

const TASK_GONE = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);
const BINDING_BROKEN = new Set(['ActivityDoesNotExist', 'InvalidArn']);
const THROTTLED = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
  'SlowDown',
]);
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ECONNABORTED',
]);

interface SdkLikeError {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
  $fault?: string;
}

/** Classifies an error thrown by an `@aws-sdk/client-sfn` command. */
export function classifySfnError(err: unknown): SfnErrorKind {
  const e = (err ?? {}) as SdkLikeError;
  const name = e.name ?? '';
  if (TASK_GONE.has(name)) return SfnErrorKind.TaskGone;
  if (BINDING_BROKEN.has(name)) return SfnErrorKind.BindingBroken;
  if (name === 'ActivityWorkerLimitExceeded') return SfnErrorKind.WorkerLimit;
  if (name === 'InvalidOutput') return SfnErrorKind.InvalidOutput;
  if (THROTTLED.has(name)) return SfnErrorKind.Throttled;
  const status = e.$metadata?.httpStatusCode ?? 0;
  if (status === 429) return SfnErrorKind.Throttled;
  if (status >= 500 || e.$fault === 'server') return SfnErrorKind.Transient;
  if (name === 'TimeoutError' || name === 'AbortError') return SfnErrorKind.Transient;
  if (e.code && NETWORK_CODES.has(e.code)) return SfnErrorKind.Transient;
  if (NETWORK_CODES.has(name)) return SfnErrorKind.Transient;
  return SfnErrorKind.Other;
}

/** A short, bounded label for metrics and logs: the SDK error name, or the network code. */
export function sfnErrorName(err: unknown): string {
  const e = (err ?? {}) as SdkLikeError;
  const raw = e.name && e.name !== 'Error' ? e.name : (e.code ?? e.name ?? 'Unknown');
  return raw.replace(/[^A-Za-z0-9_.-]/g, '').slice(0, 64) || 'Unknown';
}
