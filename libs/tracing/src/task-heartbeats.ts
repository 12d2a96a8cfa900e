import { context, Context, propagation, ROOT_CONTEXT, Span, SpanKind, trace } from '@opentelemetry/api';
import { bindingArn } from './traced-bindings';
import { activityName, Attr, SFN_SYSTEM } from './span-attributes';
import { bridgeTracer } from './tracer';

/**
 * Heartbeats as span events (the issue: "heartbeats as span events rather than spans"). An event
 * needs a span still recording, and a task's heartbeats go out over minutes to hours from any
 * replica (whichever claims them from the shared schedule), so each replica that heartbeats a task
 * holds one long-lived span for it, `heartbeats <activity>` (INTERNAL), and adds one `heartbeat`
 * event per SendTaskHeartbeat it sends:
 *   - the replica that received the task opens it at the enqueue, a child of `receive`;
 *   - any other replica opens it at its first heartbeat for the task, a child of the trace context
 *     kept in the task's record (`send`'s, which the heartbeat pass reads with the record anyway),
 *     so heartbeats sent by peers (after a crash, or simply claimed by them) are in the trace too.
 * The conventions have no operation type for keeping a message alive: no `messaging.operation.type`,
 * `messaging.operation.name` = SendTaskHeartbeat, and the name is `{operation} {destination}`.
 *
 * A span ends when this replica's heartbeat schedule is done with the task (relayed, cancelled,
 * forgotten: HeartbeatSchedule calls endTaskHeartbeats), when nobody here heartbeated it for a few
 * intervals (a peer relayed it; ended at its last event), after EVENTS_PER_SPAN events (a new one
 * continues it: bounded memory per task, long waits exported as they go), when the map is full
 * (the oldest ends), and at shutdown. A heartbeat that reports after this replica was done with
 * its task (it was in flight while the relay closed it) opens nothing: no second span in the
 * trace. The map is private to this file, keyed by job id (a hash of
 * the token), and holds nothing with tracing off: every function returns first on `bridgeTracer()`.
 */

/** Spans open at once, at most (the oldest ends to make room). */
export const MAX_OPEN_HEARTBEAT_SPANS = 4_096;
/** Events per span, at most (below the SDK's default OTEL_SPAN_EVENT_COUNT_LIMIT of 128). */
export const EVENTS_PER_SPAN = 100;
/** A span nobody here touched for this many intervals (+ slack) ends: its task closed elsewhere. */
const IDLE_INTERVALS = 3;
const IDLE_SLACK_MS = 10_000;
/** How often a call looks for idle spans (at most). */
const SWEEP_EVERY_MS = 10_000;
/** A progress mark labels the next heartbeat sent for the task within this long (a claim is a tick or two away). */
const PROGRESS_MARK_MS = 2_000;

/** What triggered a heartbeat: the binding's interval, a consumer's progress, the relay's probe. */
export type HeartbeatTrigger = 'schedule' | 'progress' | 'relay-probe';

export interface HeartbeatedTask {
  binding: string;
  queue: string;
}

/** The task as the heartbeat pass reads its record: the task, and its trace context (activeTraceContext). */
export interface TracedTask extends HeartbeatedTask {
  trace?: string;
}

interface Held {
  span: Span;
  parent: Context;
  attributes: Record<string, string>;
  intervalMs: number;
  events: number;
  lastAt: number;
  progressAt: number;
}

const held = new Map<string, Held>();
/**
 * Tasks whose span ended because this replica was done with them, most recent last (at most
 * MAX_OPEN_HEARTBEAT_SPANS): a heartbeat that was in flight when the relay closed the task reports
 * after the span ended, and must not open a second one in the task's trace.
 */
const done = new Set<string>();
let sweptAt = 0;

/**
 * Opens the task's span on the replica that received it, in the active context (`send`'s parent,
 * the `receive` span). Called by traceSend; the heartbeats from memory before the write lands, and
 * the shared pass's claims on this replica, then find it.
 */
export function openTaskHeartbeats(task: HeartbeatedTask, jobId: string, intervalMs: number): void {
  if (!bridgeTracer() || held.has(jobId)) return;
  open(jobId, task, intervalMs, context.active(), Date.now());
}

/**
 * One SendTaskHeartbeat for the task, as a `heartbeat` event on this replica's span of it, its
 * trigger `progress` if a progress mark is fresh (progressHeartbeatDue), else `schedule`. With no
 * span here yet, `task` (its record holds the trace context) opens one in the task's
 * trace, ending after `intervalMs` * 3 + 10 s idle; without it (a heartbeat from memory while Redis is down) no event is recorded.
 */
export function taskHeartbeat(jobId: string, result: { ok: boolean; name?: string }, intervalMs?: number, task?: TracedTask): void {
  if (!bridgeTracer()) return;
  const now = Date.now();
  sweep(now);
  let entry = held.get(jobId);
  if (!entry) {
    if (done.has(jobId)) return;
    const parent = task && remoteParent(task.trace);
    if (!task || !parent) return;
    entry = open(jobId, { binding: task.binding, queue: task.queue }, intervalMs ?? 60_000, parent, now);
  }
  const fromProgress = entry.progressAt > 0 && now - entry.progressAt <= PROGRESS_MARK_MS;
  entry.progressAt = 0;
  if (entry.events >= EVENTS_PER_SPAN) entry = continued(jobId, entry, now);
  entry.span.addEvent(
    'heartbeat',
    { [Attr.HeartbeatResult]: resultName(result), [Attr.HeartbeatTrigger]: fromProgress ? 'progress' : 'schedule' },
    now,
  );
  entry.events++;
  entry.lastAt = now;
}

/** A consumer's progress just made the task's heartbeat due: the next one sent here says so. */
export function progressHeartbeatDue(jobId: string): void {
  if (!bridgeTracer()) return;
  const entry = held.get(jobId);
  if (entry) entry.progressAt = Date.now();
}

/** This replica is done with the task (relayed, cancelled, failed, forgotten): its span ends now. */
export function endTaskHeartbeats(jobId: string): void {
  if (!bridgeTracer()) return;
  done.delete(jobId);
  done.add(jobId);
  if (done.size > MAX_OPEN_HEARTBEAT_SPANS) done.delete(done.values().next().value!);
  const entry = held.get(jobId);
  if (!entry) return;
  held.delete(jobId);
  entry.span.end();
}

/** Ends every span still open (before the SDK flushes at shutdown). */
export function endAllTaskHeartbeats(): void {
  for (const entry of held.values()) entry.span.end();
  held.clear();
  done.clear();
}

/** How many task spans this replica holds (for tests). */
export function openTaskHeartbeatSpans(): number {
  return held.size;
}

/** The relay's probe: an event on the active span (the relay's `process` span), not a span of its own. */
export function heartbeatEvent(result: { ok: boolean; name?: string }): void {
  if (!bridgeTracer()) return;
  trace.getActiveSpan()?.addEvent('heartbeat', { [Attr.HeartbeatResult]: resultName(result), [Attr.HeartbeatTrigger]: 'relay-probe' });
}

function open(jobId: string, task: HeartbeatedTask, intervalMs: number, parent: Context, now: number): Held {
  sweep(now);
  if (held.size >= MAX_OPEN_HEARTBEAT_SPANS) {
    const [oldest] = held.keys();
    endTaskHeartbeats(oldest);
  }
  const arn = bindingArn(task.binding);
  const attributes: Record<string, string> = {
    [Attr.System]: SFN_SYSTEM,
    [Attr.OperationName]: 'SendTaskHeartbeat',
    [Attr.Binding]: task.binding,
    [Attr.Queue]: task.queue,
    [Attr.MessageId]: jobId,
    ...(arn ? { [Attr.ActivityArn]: arn, [Attr.Destination]: activityName(arn) } : {}),
  };
  const entry: Held = { span: start(task, attributes, parent, now), parent, attributes, intervalMs, events: 0, lastAt: now, progressAt: 0 };
  held.set(jobId, entry);
  return entry;
}

function start(task: HeartbeatedTask, attributes: Record<string, string>, parent: Context, now: number): Span {
  const arn = bindingArn(task.binding);
  return bridgeTracer()!.startSpan(
    `heartbeats ${arn ? activityName(arn) : task.binding}`,
    { kind: SpanKind.INTERNAL, startTime: now, attributes },
    parent,
  );
}

/** The span is full: it ends and a new one, same parent and attributes, takes the next events. */
function continued(jobId: string, entry: Held, now: number): Held {
  entry.span.end(now);
  const next: Held = {
    ...entry,
    span: start({ binding: entry.attributes[Attr.Binding], queue: entry.attributes[Attr.Queue] }, entry.attributes, entry.parent, now),
    events: 0,
  };
  next.span.setAttribute(Attr.HeartbeatsContinued, true);
  held.set(jobId, next);
  return next;
}

/** Ends (at their last event) spans of tasks nobody here heartbeated lately: they closed elsewhere. */
function sweep(now: number): void {
  if (now - sweptAt < SWEEP_EVERY_MS) return;
  sweptAt = now;
  for (const [jobId, entry] of held) {
    if (now - entry.lastAt > IDLE_INTERVALS * entry.intervalMs + IDLE_SLACK_MS) {
      held.delete(jobId);
      entry.span.end(entry.lastAt);
    }
  }
}

/** The task's trace context as stored (JSON of the W3C carrier, as BullMQ stores a job's), if it parses. */
export function remoteParent(metadata: string | undefined): Context | undefined {
  if (!metadata) return undefined;
  try {
    const ctx = propagation.extract(ROOT_CONTEXT, JSON.parse(metadata) as Record<string, string>);
    return trace.getSpanContext(ctx) ? ctx : undefined;
  } catch {
    return undefined;
  }
}

function resultName(result: { ok: boolean; name?: string }): string {
  return result.ok ? 'ok' : (result.name ?? 'error');
}
