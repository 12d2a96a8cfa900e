import { BindingConfig, BridgeConfig } from '@bridge/config';
import { BridgeQueue, RelayJobData } from '@bridge/queue';
import { buildTaskFlow } from './task-flow';

const binding: BindingConfig = {
  name: 'charge-card',
  activityArn: 'arn:aws:states:us-east-1:123456789012:activity:charge-card',
  queue: 'payments',
  jobName: 'charge',
  pollers: 2,
  minPollers: 2,
  maxPending: 10,
  attempts: 3,
  backoff: { type: 'exponential', delay: 1000 },
  heartbeatSeconds: 20,
  jobOptions: { priority: 5 },
};
const config = { relay: { concurrency: 8, attempts: 10, backoffMs: 500 } } as BridgeConfig;
const relayData: RelayJobData = { taskToken: 'secret-token', binding: 'charge-card', queue: 'payments', receivedAt: 1 };

describe('buildTaskFlow', () => {
  const flow = buildTaskFlow(config, binding, 'abc123', relayData, { orderId: 'o-1' });
  const child = flow.children![0];

  it('makes the relay job the parent on the bridge queue, holding the token', () => {
    expect(flow.queueName).toBe(BridgeQueue.Relay);
    expect(flow.data).toEqual(relayData);
    expect(flow.opts).toMatchObject({ jobId: 'abc123', attempts: 10, backoff: { type: 'exponential', delay: 500 } });
  });

  it('gives the consumer a child job with the task input as data and no token', () => {
    expect(child).toMatchObject({ name: 'charge', queueName: 'payments', data: { orderId: 'o-1' } });
    expect(JSON.stringify(child)).not.toContain('secret-token');
  });

  it('applies the binding attempts, backoff and job options, and lets the parent run on final failure', () => {
    expect(child.opts).toMatchObject({
      jobId: 'abc123',
      attempts: 3,
      backoff: { type: 'exponential', delay: 1000 },
      priority: 5,
      ignoreDependencyOnFailure: true,
    });
  });

  it('keeps failed children long enough for the relay to read their stack traces', () => {
    expect(child.opts!.removeOnFail).toEqual(expect.objectContaining({ age: expect.any(Number) }));
  });
});
