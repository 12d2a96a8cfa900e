import {
  endAllTaskHeartbeats,
  endTaskHeartbeats,
  heartbeatEvent,
  openTaskHeartbeats,
  openTaskHeartbeatSpans,
  progressHeartbeatDue,
  taskHeartbeat,
} from './task-heartbeats';
import { pollClock, tagRelay, traceReceive, traceSend, traceSettle } from './task-spans';
import { bridgeTracer } from './tracer';

describe('task span hooks with tracing off', () => {
  const binding = { name: 'pay', activityArn: 'arn:aws:states:us-east-1:123456789012:activity:pay', queue: 'payments' };

  it('has no tracer, reads no clock and hands back exactly what the wrapped step returns', async () => {
    expect(bridgeTracer()).toBeUndefined();
    expect(pollClock()).toBe(0);
    const handOff = Promise.resolve('written');
    expect(traceReceive(binding, 0, () => handOff)).toBe(handOff);
    const sent = Promise.resolve({ enqueued: true });
    expect(traceSend(binding, 'job', () => sent)).toBe(sent);
    const settled = Promise.resolve({ ok: true });
    expect(traceSettle({ binding: 'pay', queue: 'payments' }, 'job', { kind: 'success' }, () => settled)).toBe(settled);
    expect(() => tagRelay({ binding: 'pay', queue: 'payments' }, 'job', 'relayed')).not.toThrow();
    expect(() => heartbeatEvent({ ok: false, name: 'TaskTimedOut' })).not.toThrow();
  });

  it('holds no heartbeat span for any task, whatever the heartbeat path calls', () => {
    const task = { binding: 'pay', queue: 'payments' };
    const metadata = JSON.stringify({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    openTaskHeartbeats(task, 'job', 1_000);
    progressHeartbeatDue('job');
    taskHeartbeat('job', { ok: true }, 1_000, { data: task, opts: { telemetry: { metadata } } });
    taskHeartbeat('job', { ok: false, name: 'ThrottlingException' });
    endTaskHeartbeats('job');
    endAllTaskHeartbeats();
    expect(openTaskHeartbeatSpans()).toBe(0);
  });

  it('lets a failing step fail unchanged', async () => {
    const err = new Error('Redis down');
    await expect(traceSend(binding, 'job', () => Promise.reject(err))).rejects.toBe(err);
  });
});
