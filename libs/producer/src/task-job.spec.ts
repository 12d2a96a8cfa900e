import { BindingConfig } from '@bridge/config';
import { taskJobOptions } from './task-job';

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

describe('taskJobOptions', () => {
  it('gives the job the id derived from the token and the binding attempts, backoff and job options', () => {
    expect(taskJobOptions(binding, 'abc123')).toMatchObject({
      jobId: 'abc123',
      attempts: 3,
      backoff: { type: 'exponential', delay: 1000 },
      priority: 5,
    });
  });

  it('keeps failed jobs long enough for the relay to read their stack traces', () => {
    expect(taskJobOptions(binding, 'abc123').removeOnFail).toEqual(expect.objectContaining({ age: 86_400 }));
  });

  it("uses the binding's own retention when it sets one", () => {
    const own = { ...binding, jobOptions: { removeOnComplete: 10, removeOnFail: true } };
    expect(taskJobOptions(own, 'abc123')).toMatchObject({ removeOnComplete: 10, removeOnFail: true });
  });
});
