import { RelayJobData } from '@bridge/queue';
import { Job, Queue } from 'bullmq';
import { HeartbeatSchedule } from './heartbeat-schedule.service';
import { TaskCanceller } from './task-canceller.service';

function setup(child: { state: string; removeFails?: boolean } | undefined) {
  const queue = {} as Queue;
  const schedule = { remove: jest.fn().mockResolvedValue(undefined), markCancelled: jest.fn().mockResolvedValue(undefined) };
  const childJob = child && {
    getState: jest.fn().mockResolvedValue(child.state),
    remove: child.removeFails ? jest.fn().mockRejectedValue(new Error('locked')) : jest.fn().mockResolvedValue(undefined),
  };
  const fromId = jest.spyOn(Job, 'fromId').mockResolvedValue(childJob as unknown as Job);
  const canceller = new TaskCanceller(new Map([['unit', queue]]), schedule as unknown as HeartbeatSchedule);
  const data: RelayJobData = { taskToken: 'token-1', binding: 'unit', queue: 'unit', receivedAt: 0 };
  const relayJob = { id: 'job-1', data, updateData: jest.fn().mockResolvedValue(undefined) } as unknown as Job<RelayJobData> & {
    updateData: jest.Mock;
  };
  return { schedule, childJob, fromId, canceller, relayJob, queue };
}

describe('TaskCanceller', () => {
  afterEach(() => jest.restoreAllMocks());

  it('removes a job no consumer started, marks the relay job cancelled and stops its heartbeats', async () => {
    const { schedule, childJob, fromId, canceller, relayJob, queue } = setup({ state: 'waiting' });
    await expect(canceller.cancel(relayJob, 'TaskTimedOut')).resolves.toBe('removed');
    expect({
      removed: childJob!.remove.mock.calls.length,
      data: relayJob.updateData.mock.calls[0][0].cancelled,
      unscheduled: schedule.remove.mock.calls[0][0],
      flag: schedule.markCancelled.mock.calls[0],
      lookedUp: fromId.mock.calls[0],
    }).toEqual({ removed: 1, data: 'TaskTimedOut', unscheduled: 'job-1', flag: ['job-1', 'TaskTimedOut'], lookedUp: [queue, 'job-1'] });
  });

  it('flags an active job for its consumer instead of removing it', async () => {
    const { childJob, canceller, relayJob } = setup({ state: 'active' });
    await expect(canceller.cancel(relayJob, 'TaskDoesNotExist')).resolves.toBe('flagged');
    expect(childJob!.remove).not.toHaveBeenCalled();
  });

  it('flags a job a consumer picked up between the state read and the removal', async () => {
    const { canceller, relayJob } = setup({ state: 'waiting', removeFails: true });
    await expect(canceller.cancel(relayJob, 'TaskTimedOut')).resolves.toBe('flagged');
  });

  it('reports finished when the job is gone or done, and survives a relay job that finished meanwhile', async () => {
    const { canceller, relayJob } = setup(undefined);
    relayJob.updateData.mockRejectedValue(new Error('Missing key for job job-1. updateData'));
    await expect(canceller.cancel(relayJob, 'TaskTimedOut')).resolves.toBe('finished');
    const done = setup({ state: 'completed' });
    await expect(done.canceller.cancel(done.relayJob, 'TaskTimedOut')).resolves.toBe('finished');
  });
});
