import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { node, tracing } from '@opentelemetry/sdk-node';
import {
  endAllTaskHeartbeats,
  endTaskHeartbeats,
  heartbeatEvent,
  openTaskHeartbeats,
  openTaskHeartbeatSpans,
  progressHeartbeatDue,
  remoteParent,
  taskHeartbeat,
} from './task-heartbeats';
import { activeTraceContext, pollClock, traceReceive, traceRelay, traceSend, traceSettle } from './task-spans';
import { registerTracedBindings } from './traced-bindings';
import { bridgeTracer, setBridgeTracer } from './tracer';

const ARN = 'arn:aws:states:us-east-1:123456789012:activity:pay';
/** A task record's trace context: W3C headers as JSON, as activeTraceContext() writes it. */
const PEER_TRACE = '0af7651916cd43dd8448eb211c80319c';
const PEER_SPAN = 'b7ad6b7169203331';
const recorded = { binding: 'pay', queue: 'payments', trace: JSON.stringify({ traceparent: `00-${PEER_TRACE}-${PEER_SPAN}-01` }) };

describe('task span hooks with tracing off', () => {
  const binding = { name: 'pay', activityArn: ARN, queue: 'payments' };

  it('has no tracer, reads no clock and hands back exactly what the wrapped step returns', async () => {
    expect(bridgeTracer()).toBeUndefined();
    expect(pollClock()).toBe(0);
    const handOff = Promise.resolve('written');
    expect(traceReceive(binding, 0, () => handOff)).toBe(handOff);
    const sent = Promise.resolve({ enqueued: true });
    expect(traceSend(binding, 'job', () => sent)).toBe(sent);
    const relayed = Promise.resolve({ status: 'relayed' });
    expect(traceRelay(recorded, 'job', () => relayed)).toBe(relayed);
    const settled = Promise.resolve({ ok: true });
    expect(traceSettle({ binding: 'pay', queue: 'payments' }, 'job', { kind: 'success' }, () => settled)).toBe(settled);
    expect(() => heartbeatEvent({ ok: false, name: 'TaskTimedOut' })).not.toThrow();
  });

  it('stores no trace context in a task record', () => {
    expect(activeTraceContext()).toBeUndefined();
  });

  it('holds no heartbeat span for any task, whatever the heartbeat path calls', () => {
    const task = { binding: 'pay', queue: 'payments' };
    openTaskHeartbeats(task, 'job', 1_000);
    progressHeartbeatDue('job');
    taskHeartbeat('job', { ok: true }, 1_000, recorded);
    taskHeartbeat('job', { ok: false, name: 'ThrottlingException' });
    endTaskHeartbeats('job');
    endAllTaskHeartbeats();
    expect(openTaskHeartbeatSpans()).toBe(0);
  });

  it('lets a failing step fail unchanged', async () => {
    const err = new Error('Redis down');
    await expect(traceSend(binding, 'job', () => Promise.reject(err))).rejects.toBe(err);
    await expect(traceRelay(recorded, 'job', () => Promise.reject(err))).rejects.toBe(err);
  });
});

describe('relay spans and the trace context a task record stores (tracing on)', () => {
  const exporter = new tracing.InMemorySpanExporter();
  const provider = new node.NodeTracerProvider({ spanProcessors: [new tracing.SimpleSpanProcessor(exporter)] });
  const tracer = provider.getTracer('test');
  const ended = () => exporter.getFinishedSpans();
  const named = (name: string) => {
    const found = ended().filter((s) => s.name === name);
    if (found.length !== 1) throw new Error(`expected one span '${name}', saw ${JSON.stringify(ended().map((s) => s.name))}`);
    return found[0];
  };

  beforeAll(() => {
    provider.register();
    setBridgeTracer(tracer);
    registerTracedBindings([{ name: 'pay', activityArn: ARN }]);
  });

  afterEach(() => exporter.reset());

  afterAll(async () => {
    setBridgeTracer(undefined);
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });

  it("runs a relay as a CONSUMER span 'relay <queue>' in the trace its record stored, tagged with the result's status", async () => {
    const result = await traceRelay(recorded, 'job-r', async () => ({ status: 'expired', reason: 'TaskTimedOut' }));
    const span = named('relay payments');
    expect({
      result,
      kind: span.kind,
      trace: span.spanContext().traceId,
      parent: span.parentSpanContext?.spanId,
      attributes: span.attributes,
    }).toEqual({
      result: { status: 'expired', reason: 'TaskTimedOut' },
      kind: SpanKind.CONSUMER,
      trace: PEER_TRACE,
      parent: PEER_SPAN,
      attributes: {
        'messaging.system': 'bullmq',
        'messaging.operation.type': 'process',
        'messaging.operation.name': 'relay',
        'messaging.destination.name': 'payments',
        'messaging.message.id': 'job-r',
        'aws.stepfunctions.activity.arn': ARN,
        'sfn_bridge.binding': 'pay',
        'sfn_bridge.queue': 'payments',
        'sfn_bridge.relay.status': 'expired',
      },
    });
  });

  it('tags a relay that ends with no result (to be tried again) as retry', async () => {
    await traceRelay(recorded, 'job-t', async () => undefined);
    await traceRelay(recorded, 'job-u', async () => ({ status: 'relayed' }));
    expect(ended().map((s) => [s.attributes['messaging.message.id'], s.attributes['sfn_bridge.relay.status']])).toEqual([
      ['job-t', 'retry'],
      ['job-u', 'relayed'],
    ]);
  });

  it('nests the settle call under the relay span, in the stored trace', async () => {
    await traceRelay(recorded, 'job-s', async () => {
      await traceSettle(recorded, 'job-s', { kind: 'failure', error: 'Consumer.Boom' }, async () => ({ ok: true }));
      return { status: 'relayed' };
    });
    const relay = named('relay payments');
    const settle = named('SendTaskFailure pay');
    expect({
      trace: settle.spanContext().traceId,
      parent: settle.parentSpanContext?.spanId,
      kind: settle.kind,
      error: settle.attributes['sfn_bridge.task.error'],
    }).toEqual({ trace: PEER_TRACE, parent: relay.spanContext().spanId, kind: SpanKind.CLIENT, error: 'Consumer.Boom' });
  });

  it('marks a relay that threw as an error span and rethrows the error unchanged', async () => {
    const err = Object.assign(new Error('socket closed'), { name: 'ConnectionError' });
    await expect(traceRelay(recorded, 'job-e', () => Promise.reject(err))).rejects.toBe(err);
    const span = named('relay payments');
    expect({ status: span.status, type: span.attributes['error.type'], tagged: span.attributes['sfn_bridge.relay.status'] }).toEqual({
      status: { code: SpanStatusCode.ERROR, message: 'socket closed' },
      type: 'ConnectionError',
      tagged: undefined,
    });
  });

  it('runs a relay whose record has no usable trace context in the active context', async () => {
    const outer = tracer.startSpan('outer');
    await context.with(trace.setSpan(context.active(), outer), () =>
      traceRelay({ ...recorded, trace: 'not json' }, 'job-n', async () => ({ status: 'relayed' })),
    );
    outer.end();
    const relay = named('relay payments');
    expect([relay.spanContext().traceId, relay.parentSpanContext?.spanId]).toEqual([
      outer.spanContext().traceId,
      outer.spanContext().spanId,
    ]);
  });

  it('stores the active span as a W3C carrier that a span on another replica continues (round trip)', async () => {
    expect(activeTraceContext()).toBeUndefined(); // no active span: nothing to store
    const send = tracer.startSpan('send payments');
    const stored = context.with(trace.setSpan(context.active(), send), () => activeTraceContext());
    send.end();
    const { traceId, spanId } = send.spanContext();
    expect(JSON.parse(stored ?? '{}')).toEqual({ traceparent: `00-${traceId}-${spanId}-01` });

    const peer = tracer.startSpan('heartbeats pay', {}, remoteParent(stored));
    peer.end();
    await traceRelay({ binding: 'pay', queue: 'payments', trace: stored }, 'job-p', async () => ({ status: 'relayed' }));
    expect(['heartbeats pay', 'relay payments'].map((n) => [named(n).spanContext().traceId, named(n).parentSpanContext?.spanId])).toEqual([
      [traceId, spanId],
      [traceId, spanId],
    ]);
  });
});
