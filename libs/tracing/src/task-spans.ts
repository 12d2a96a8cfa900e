import { context, Context, propagation, Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { bindingArn } from './traced-bindings';
import { activityName, Attr, BULLMQ_SYSTEM, SFN_SYSTEM } from './span-attributes';
import { openTaskHeartbeats, remoteParent } from './task-heartbeats';
import { bridgeTracer } from './tracer';

/**
 * The bridge's spans of one task, after the OpenTelemetry messaging conventions:
 *   receive <activity>                 GetActivityTask that returned the task (CLIENT; the root)
 *     send <queue>                     the enqueue (PRODUCER); BullMQ's `add` span nests under it and
 *                                      its context travels in the job, so a consumer's `process`
 *                                      span joins the trace; the task record keeps `send`'s context
 *   relay <queue>                      the relay of the job's end (CONSUMER), on whichever replica
 *                                      relays it, a child of `send` through the task record
 *     SendTaskSuccess|Failure <activity> the relay's call (settle, CLIENT)
 *   heartbeats <activity>              this replica's SendTaskHeartbeat calls for the task, as
 *                                      `heartbeat` events (task-heartbeats.ts)
 * Each function runs `fn` unchanged and does nothing else when tracing is off (one check of an
 * unset variable).
 */

export interface ReceivedBinding {
  name: string;
  activityArn: string;
  queue: string;
  heartbeatSeconds?: number;
}

/** When a poll starts, in ms since epoch, with tracing on; 0 (and no clock read) with it off. */
export function pollClock(): number {
  return bridgeTracer() ? Date.now() : 0;
}

/**
 * Records the GetActivityTask that returned a task (started at `polledAt`, from pollClock) and runs
 * the hand-off in its context. Only polls that returned a task get here: empty polls are not traced.
 */
export function traceReceive<T>(binding: ReceivedBinding, polledAt: number, fn: () => T): T {
  const tracer = bridgeTracer();
  if (!tracer) return fn();
  const span = tracer.startSpan(`receive ${activityName(binding.activityArn)}`, {
    kind: SpanKind.CLIENT,
    // Each task its own trace, whatever the poll loop's context.
    root: true,
    startTime: polledAt || undefined,
    attributes: {
      [Attr.System]: SFN_SYSTEM,
      [Attr.OperationType]: 'receive',
      [Attr.OperationName]: 'GetActivityTask',
      [Attr.Destination]: activityName(binding.activityArn),
      [Attr.ActivityArn]: binding.activityArn,
      [Attr.Binding]: binding.name,
      [Attr.Queue]: binding.queue,
    },
  });
  try {
    // The hand-off reaches traceSend synchronously, which names the job on this span before it ends.
    return context.with(trace.setSpan(context.active(), span), fn);
  } finally {
    span.end();
  }
}

/** The enqueue of one task (all tries), in whose context BullMQ's `add` span nests. */
export function traceSend<T extends { enqueued: boolean; reason?: string }>(
  binding: ReceivedBinding,
  jobId: string,
  fn: () => Promise<T>,
): Promise<T> {
  const tracer = bridgeTracer();
  if (!tracer) return fn();
  trace.getActiveSpan()?.setAttribute(Attr.MessageId, jobId);
  // Beside `send`, under `receive`: this replica's span of the task's heartbeats (task-heartbeats.ts).
  openTaskHeartbeats({ binding: binding.name, queue: binding.queue }, jobId, (binding.heartbeatSeconds ?? 60) * 1000);
  const span = tracer.startSpan(`send ${binding.queue}`, {
    kind: SpanKind.PRODUCER,
    attributes: {
      [Attr.System]: BULLMQ_SYSTEM,
      [Attr.OperationType]: 'send',
      [Attr.OperationName]: 'enqueue',
      [Attr.Destination]: binding.queue,
      [Attr.MessageId]: jobId,
      [Attr.ActivityArn]: binding.activityArn,
      [Attr.Binding]: binding.name,
      [Attr.Queue]: binding.queue,
    },
  });
  return runInSpan(span, context.active(), fn, (result) => {
    if (!result.enqueued) failSpan(span, 'Bridge.EnqueueFailed', result.reason);
  });
}

export interface RelayedTask {
  binding: string;
  queue: string;
}

export type SettleOutcome = { kind: 'success' } | { kind: 'failure'; error: string };

/**
 * The active trace context as a string for the task record (JSON of the W3C carrier, the format
 * BullMQ stores in a job), so any replica's relay and heartbeat spans join the task's trace;
 * undefined with tracing off.
 */
export function activeTraceContext(): string | undefined {
  if (!bridgeTracer()) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return Object.keys(carrier).length > 0 ? JSON.stringify(carrier) : undefined;
}

/**
 * One relay of a task (a claim and its send), as a CONSUMER span in the task's trace (`trace`, from
 * the task record), tagged with what became of it (`status` of the result).
 */
export function traceRelay<T extends { status: string } | undefined>(
  task: RelayedTask & { trace?: string },
  jobId: string,
  fn: () => Promise<T>,
): Promise<T> {
  const tracer = bridgeTracer();
  if (!tracer) return fn();
  const parent = remoteParent(task.trace) ?? context.active();
  const span = tracer.startSpan(
    `relay ${task.queue}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        ...taskAttributes(task, jobId),
        [Attr.System]: BULLMQ_SYSTEM,
        [Attr.Destination]: task.queue,
        [Attr.OperationType]: 'process',
        [Attr.OperationName]: 'relay',
      },
    },
    parent,
  );
  return runInSpan(span, parent, fn, (result) => span.setAttribute(Attr.RelayStatus, result?.status ?? 'retry'));
}

/**
 * One SendTaskSuccess / SendTaskFailure of the relay (settle), under the `relay` span. A failure carries the relayed error name; a refused call is an error span with the
 * AWS error's name as `error.type`.
 */
export function traceSettle<T extends { ok: boolean; name?: string }>(
  task: RelayedTask,
  jobId: string | undefined,
  outcome: SettleOutcome,
  fn: () => Promise<T>,
): Promise<T> {
  const tracer = bridgeTracer();
  if (!tracer) return fn();
  const operation = outcome.kind === 'success' ? 'SendTaskSuccess' : 'SendTaskFailure';
  const arn = bindingArn(task.binding);
  const span = tracer.startSpan(`${operation} ${arn ? activityName(arn) : task.binding}`, {
    kind: SpanKind.CLIENT,
    attributes: {
      ...taskAttributes(task, jobId),
      [Attr.System]: SFN_SYSTEM,
      [Attr.OperationType]: 'settle',
      [Attr.OperationName]: operation,
      ...(outcome.kind === 'failure' ? { [Attr.TaskError]: outcome.error } : {}),
    },
  });
  return runInSpan(span, context.active(), fn, (result) => {
    if (!result.ok) failSpan(span, result.name ?? 'Error');
  });
}

function taskAttributes(task: RelayedTask, jobId: string | undefined): Record<string, string> {
  const arn = bindingArn(task.binding);
  return {
    [Attr.Binding]: task.binding,
    [Attr.Queue]: task.queue,
    ...(arn ? { [Attr.ActivityArn]: arn, [Attr.Destination]: activityName(arn) } : {}),
    ...(jobId ? { [Attr.MessageId]: jobId } : {}),
  };
}

/** Runs `fn` with `span` active under `parent`; `settle` tags it from the result before it ends; a throw marks it failed and is rethrown. */
function runInSpan<T>(span: Span, parent: Context, fn: () => Promise<T>, settle: (result: T) => void): Promise<T> {
  return context.with(trace.setSpan(parent, span), fn).then(
    (result) => {
      settle(result);
      span.end();
      return result;
    },
    (err: unknown) => {
      failSpan(span, (err as Error)?.name ?? 'Error', (err as Error)?.message);
      span.end();
      throw err;
    },
  );
}

function failSpan(span: Span, errorType: string, message?: string): void {
  span.setAttribute(Attr.ErrorType, errorType);
  span.setStatus({ code: SpanStatusCode.ERROR, message: message ?? errorType });
}
