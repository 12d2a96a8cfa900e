import type { TaskRecord } from '../../sfn-local/src/task-records';
import { heartbeatSilences } from './heartbeat-silence';

const task = (maxSilenceMs: number, maxSilenceEndedAt: number): TaskRecord => ({
  executionArn: 'arn:exec',
  activityArn: 'arn:act',
  stateName: 'Work',
  status: 'closed',
  closeReason: 'succeeded',
  scheduledAt: 0,
  handedOutAt: 0,
  lastHeartbeatAt: maxSilenceEndedAt,
  maxSilenceMs,
  maxSilenceEndedAt,
  secondResults: 0,
});

describe('heartbeat silences in the chaos read-out', () => {
  it('puts each silence over the bound next to the Redis action or replica kill it overlapped, or none', () => {
    const events = [
      { at: 10_000, action: 'redis-sigkill', ms: 2_500 },
      { at: 30_000, action: 'bridge-sigkill', ms: 50 },
    ];
    const figures = heartbeatSilences(
      [
        { label: 'in-redis-outage', task: task(2_400, 12_600), boundMs: 1_500 },
        { label: 'after-replica-kill', task: task(1_800, 31_200), boundMs: 1_500 },
        { label: 'quiet', task: task(1_600, 50_000), boundMs: 1_500 },
        { label: 'within', task: task(1_400, 12_000), boundMs: 1_500 },
      ],
      events,
      0,
    );
    expect({ over: figures.overBound, by: figures.overBoundBy, worst: figures.worst[0] }).toEqual({
      over: 3,
      by: { redis: 1, replica: 1, none: 1 },
      worst: 'in-redis-outage: 2400 ms silent (handed to undefined, succeeded, ended at 12.6 s, next to redis-sigkill at 10.0 s)',
    });
  });
});
