import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { node, tracing } from '@opentelemetry/sdk-node';
import {
  endAllTaskHeartbeats,
  endTaskHeartbeats,
  EVENTS_PER_SPAN,
  MAX_OPEN_HEARTBEAT_SPANS,
  openTaskHeartbeats,
  openTaskHeartbeatSpans,
  progressHeartbeatDue,
  taskHeartbeat,
} from './task-heartbeats';
import { registerTracedBindings } from './traced-bindings';
import { setBridgeTracer } from './tracer';

const ARN = 'arn:aws:states:us-east-1:123456789012:activity:pay';
const task = { binding: 'pay', queue: 'payments' };
/** The task as a peer reads its record: its trace context is W3C headers as JSON (activeTraceContext). */
const PEER_TRACE = '0af7651916cd43dd8448eb211c80319c';
const recorded = { ...task, trace: JSON.stringify({ traceparent: `00-${PEER_TRACE}-b7ad6b7169203331-01` }) };

describe('task heartbeat spans (one per task and replica, heartbeats as its events)', () => {
  const exporter = new tracing.InMemorySpanExporter();
  const provider = new node.NodeTracerProvider({ spanProcessors: [new tracing.SimpleSpanProcessor(exporter)] });
  const tracer = provider.getTracer('test');
  const ended = () => exporter.getFinishedSpans();
  const eventsOf = (i: number) => ended()[i].events.map((e) => e.attributes);
  /** The receiving replica: the task's span opened under an (ended) `receive pay` span, returned. */
  const openUnderReceive = (jobId: string) => {
    const receive = tracer.startSpan('receive pay');
    context.with(trace.setSpan(context.active(), receive), () => openTaskHeartbeats(task, jobId, 1_000));
    receive.end();
    return receive;
  };

  beforeAll(() => {
    provider.register();
    setBridgeTracer(tracer);
    registerTracedBindings([{ name: 'pay', activityArn: ARN }]);
  });

  afterEach(() => {
    endAllTaskHeartbeats();
    exporter.reset();
    jest.restoreAllMocks();
  });

  afterAll(async () => {
    setBridgeTracer(undefined);
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });

  it('opens under the active span, records each heartbeat as an event with result and trigger, ends when the task is done', () => {
    const receive = openUnderReceive('job-a');
    taskHeartbeat('job-a', { ok: true });
    progressHeartbeatDue('job-a');
    taskHeartbeat('job-a', { ok: false, name: 'ThrottlingException' });
    taskHeartbeat('job-a', { ok: true }, 1_000, recorded);
    expect(ended().map((s) => s.name)).toEqual(['receive pay']);

    endTaskHeartbeats('job-a');
    const span = ended()[1];
    expect({ name: span.name, kind: span.kind, parent: span.parentSpanContext?.spanId }).toEqual({
      name: 'heartbeats pay',
      kind: SpanKind.INTERNAL,
      parent: receive.spanContext().spanId,
    });
    expect(span.attributes).toEqual({
      'messaging.system': 'aws_stepfunctions',
      'messaging.operation.name': 'SendTaskHeartbeat',
      'messaging.destination.name': 'pay',
      'messaging.message.id': 'job-a',
      'aws.stepfunctions.activity.arn': ARN,
      'sfn_bridge.binding': 'pay',
      'sfn_bridge.queue': 'payments',
    });
    expect(span.events.map((e) => e.name)).toEqual(['heartbeat', 'heartbeat', 'heartbeat']);
    expect(eventsOf(1)).toEqual([
      { 'sfn_bridge.heartbeat.result': 'ok', 'sfn_bridge.heartbeat.trigger': 'schedule' },
      { 'sfn_bridge.heartbeat.result': 'ThrottlingException', 'sfn_bridge.heartbeat.trigger': 'progress' },
      { 'sfn_bridge.heartbeat.result': 'ok', 'sfn_bridge.heartbeat.trigger': 'schedule' },
    ]);
    expect(openTaskHeartbeatSpans()).toBe(0);
  });

  it("opens a peer's span in the task's trace from the record's trace context, and none without a usable one", () => {
    taskHeartbeat('job-b', { ok: true });
    taskHeartbeat('job-b', { ok: true }, 1_000, task);
    taskHeartbeat('job-b', { ok: true }, 1_000, { ...task, trace: 'not json' });
    taskHeartbeat('job-b', { ok: true }, 1_000, { ...task, trace: JSON.stringify({ traceparent: 'garbage' }) });
    expect(openTaskHeartbeatSpans()).toBe(0);

    taskHeartbeat('job-b', { ok: true }, 1_000, recorded);
    endTaskHeartbeats('job-b');
    expect(
      ended().map((s) => [s.name, s.spanContext().traceId, s.parentSpanContext?.spanId, s.attributes['sfn_bridge.queue'], s.events.length]),
    ).toEqual([['heartbeats pay', PEER_TRACE, 'b7ad6b7169203331', 'payments', 1]]);
  });

  it('opens no second span for a heartbeat that reports after its task closed here (it was in flight during the relay)', () => {
    const receive = openUnderReceive('job-late');
    taskHeartbeat('job-late', { ok: true });
    endTaskHeartbeats('job-late');
    taskHeartbeat('job-late', { ok: false, name: 'TaskTimedOut' }, 1_000, recorded);
    expect(openTaskHeartbeatSpans()).toBe(0);
    endAllTaskHeartbeats();
    const heartbeatSpans = ended().filter((s) => s.name === 'heartbeats pay');
    expect(heartbeatSpans.map((s) => ({ parent: s.parentSpanContext?.spanId, events: s.events.length }))).toEqual([
      { parent: receive.spanContext().spanId, events: 1 },
    ]);
  });

  it('continues a full span in a new one, so no span holds more than EVENTS_PER_SPAN events', () => {
    openTaskHeartbeats(task, 'job-c', 1_000);
    for (let i = 0; i <= EVENTS_PER_SPAN; i++) taskHeartbeat('job-c', { ok: true });
    expect(ended().map((s) => s.events.length)).toEqual([EVENTS_PER_SPAN]);
    endTaskHeartbeats('job-c');
    expect(ended().map((s) => [s.events.length, s.attributes['sfn_bridge.heartbeats.continued']])).toEqual([
      [EVENTS_PER_SPAN, undefined],
      [1, true],
    ]);
  });

  it('holds at most MAX_OPEN_HEARTBEAT_SPANS spans: the oldest ends to make room', () => {
    for (let i = 0; i <= MAX_OPEN_HEARTBEAT_SPANS; i++) openTaskHeartbeats(task, `job-${i}`, 1_000);
    expect(openTaskHeartbeatSpans()).toBe(MAX_OPEN_HEARTBEAT_SPANS);
    expect(ended().map((s) => s.attributes['messaging.message.id'])).toEqual(['job-0']);
  });

  it('ends, at its last event, a span nobody here heartbeated for a few intervals (its task closed elsewhere)', () => {
    const start = Date.now();
    const clock = jest.spyOn(Date, 'now').mockReturnValue(start);
    openTaskHeartbeats(task, 'job-d', 1_000);
    taskHeartbeat('job-d', { ok: true });
    // 3 intervals + 10 s later, the next call (another task's heartbeat) sweeps it.
    clock.mockReturnValue(start + 3 * 1_000 + 10_001);
    taskHeartbeat('job-e', { ok: true }, 1_000, recorded);
    expect(ended().map((s) => [s.attributes['messaging.message.id'], Math.round(s.endTime[0] * 1000 + s.endTime[1] / 1e6)])).toEqual([
      ['job-d', start],
    ]);
    expect(openTaskHeartbeatSpans()).toBe(1);
  });

  it('ends every open span at shutdown, so the final flush exports them', () => {
    openTaskHeartbeats(task, 'job-f', 1_000);
    taskHeartbeat('job-g', { ok: true }, 1_000, recorded);
    endAllTaskHeartbeats();
    expect(
      ended()
        .map((s) => s.attributes['messaging.message.id'])
        .sort(),
    ).toEqual(['job-f', 'job-g']);
    expect(openTaskHeartbeatSpans()).toBe(0);
  });
});
