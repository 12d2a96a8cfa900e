import {
  DescribeExecutionCommand,
  DescribeExecutionCommandOutput,
  GetActivityTaskCommand,
  GetExecutionHistoryCommand,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { SfnLocal } from '../../apps/sfn-local/src';
import { closeLocal, createActivity, createMachine, errorOf, oneTask, startLocal, within } from './helpers';

describe('sfn-local timeouts, Retry and Catch', () => {
  let local: SfnLocal;
  let sfn: SFNClient;

  beforeAll(async () => {
    ({ local, sfn } = await startLocal(5));
  });
  afterAll(() => closeLocal(local, sfn));

  const start = (stateMachineArn: string, input = '{}') =>
    sfn.send(new StartExecutionCommand({ stateMachineArn, input })).then((o) => o.executionArn!);
  const take = (activityArn: string) =>
    within(sfn.send(new GetActivityTaskCommand({ activityArn })), 8000, 'task').then((t) => {
      expect(t.taskToken).toBeDefined();
      return t;
    });
  /** Polls DescribeExecution (no push API exists) until the execution has ended, bounded. */
  async function ended(executionArn: string, ms = 6000): Promise<DescribeExecutionCommandOutput> {
    const end = Date.now() + ms;
    for (;;) {
      const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      if (d.status !== 'RUNNING') return d;
      if (Date.now() > end) throw new Error(`${executionArn} still RUNNING after ${ms} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const types = async (executionArn: string) =>
    (await sfn.send(new GetExecutionHistoryCommand({ executionArn }))).events!.map((e) => e.type);

  it('fails the execution with States.HeartbeatTimeout when no heartbeat arrives in HeartbeatSeconds', async () => {
    const act = await createActivity(sfn);
    const arn = await start(await createMachine(sfn, oneTask(act, { HeartbeatSeconds: 1, TimeoutSeconds: 30 })));
    const { taskToken } = await take(act);
    const t0 = Date.now();
    const d = await ended(arn);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(800);
    expect(d).toMatchObject({ status: 'FAILED', error: 'States.HeartbeatTimeout' });
    expect(await types(arn)).toContain('ActivityTimedOut');
    expect(await errorOf(sfn.send(new SendTaskSuccessCommand({ taskToken, output: '{}' })))).toBeInstanceOf(TaskTimedOut);
    expect(local.tasks({ executionArn: arn })[0].closeReason).toBe('heartbeatTimedOut');
  });

  it('keeps a task alive while heartbeats arrive within HeartbeatSeconds', async () => {
    const act = await createActivity(sfn);
    const arn = await start(await createMachine(sfn, oneTask(act, { HeartbeatSeconds: 1 })));
    const { taskToken } = await take(act);
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 400)); // the thing under test is elapsed time
      await sfn.send(new SendTaskHeartbeatCommand({ taskToken }));
    }
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn: arn }))).status).toBe('RUNNING');
    await sfn.send(new SendTaskSuccessCommand({ taskToken, output: '{"done":1}' }));
    expect((await ended(arn)).status).toBe('SUCCEEDED');
  });

  it('fails with States.Timeout after TimeoutSeconds counted from hand-out, not scheduling', async () => {
    const act = await createActivity(sfn);
    const arn = await start(await createMachine(sfn, oneTask(act, { TimeoutSeconds: 1 })));
    await new Promise((r) => setTimeout(r, 1300)); // queued longer than TimeoutSeconds before any worker polls
    await take(act);
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn: arn }))).status).toBe('RUNNING');
    const d = await ended(arn);
    expect(d).toMatchObject({ status: 'FAILED', error: 'States.Timeout' });
    expect(local.tasks({ executionArn: arn })[0].closeReason).toBe('timedOut');
  });

  it('Catch on States.Timeout routes a heartbeat timeout to the fallback with the error under ResultPath', async () => {
    const act = await createActivity(sfn);
    const sm = await createMachine(sfn, {
      StartAt: 'Work',
      States: {
        Work: {
          Type: 'Task',
          Resource: act,
          HeartbeatSeconds: 1,
          Next: 'Ok',
          Catch: [{ ErrorEquals: ['States.Timeout'], ResultPath: '$.err', Next: 'Fallback' }],
        },
        Ok: { Type: 'Succeed' },
        Fallback: { Type: 'Pass', Result: 'fell back', ResultPath: '$.note', End: true },
      },
    });
    const arn = await start(sm, '{"id":7}');
    await take(act);
    const d = await ended(arn);
    expect(d.status).toBe('SUCCEEDED');
    expect(JSON.parse(d.output!)).toEqual({ id: 7, err: { Error: 'States.HeartbeatTimeout' }, note: 'fell back' });
  });

  it('Retry reschedules a failed task after IntervalSeconds, then succeeds', async () => {
    const act = await createActivity(sfn);
    const sm = await createMachine(
      sfn,
      oneTask(act, { Retry: [{ ErrorEquals: ['Flaky'], IntervalSeconds: 1, MaxAttempts: 2, BackoffRate: 1 }] }),
    );
    const arn = await start(sm, '{"try":1}');
    const first = await take(act);
    const t0 = Date.now();
    await sfn.send(new SendTaskFailureCommand({ taskToken: first.taskToken, error: 'Flaky', cause: 'once' }));
    const second = await take(act);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(second.input).toBe(first.input);
    await sfn.send(new SendTaskSuccessCommand({ taskToken: second.taskToken, output: '"ok"' }));
    expect(await ended(arn)).toMatchObject({ status: 'SUCCEEDED', output: '"ok"' });
    expect((await types(arn)).filter((t) => t === 'ActivityScheduled')).toHaveLength(2);
  });

  it('a retrier with MaxAttempts 0 does not retry; Catch States.TaskFailed then leads to a Fail state', async () => {
    const act = await createActivity(sfn);
    const sm = await createMachine(sfn, {
      StartAt: 'Work',
      States: {
        Work: {
          Type: 'Task',
          Resource: act,
          End: true,
          Retry: [{ ErrorEquals: ['Flaky'], IntervalSeconds: 1, MaxAttempts: 0 }],
          Catch: [{ ErrorEquals: ['States.TaskFailed'], Next: 'Broken' }],
        },
        Broken: { Type: 'Fail', Error: 'Broken', Cause: 'gave up' },
      },
    });
    const arn = await start(sm);
    await sfn.send(new SendTaskFailureCommand({ taskToken: (await take(act)).taskToken, error: 'Flaky' }));
    expect(await ended(arn)).toMatchObject({ status: 'FAILED', error: 'Broken', cause: 'gave up' });
    expect(await types(arn)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'ActivityScheduled',
      'ActivityStarted',
      'ActivityFailed',
      'TaskStateExited',
      'FailStateEntered',
      'ExecutionFailed',
    ]);
  });

  it('times out the whole execution after the definition TimeoutSeconds (TIMED_OUT), closing its task', async () => {
    const act = await createActivity(sfn);
    const sm = await createMachine(sfn, { TimeoutSeconds: 1, ...oneTask(act) });
    const arn = await start(sm);
    const { taskToken } = await take(act);
    const d = await ended(arn);
    expect(d.status).toBe('TIMED_OUT');
    expect(await errorOf(sfn.send(new SendTaskHeartbeatCommand({ taskToken })))).toBeInstanceOf(TaskTimedOut);
    expect((await types(arn)).pop()).toBe('ExecutionTimedOut');
  });
});
