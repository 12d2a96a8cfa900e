import {
  CreateStateMachineCommand,
  DeleteStateMachineCommand,
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetActivityTaskCommand,
  GetExecutionHistoryCommand,
  InvalidArn,
  InvalidDefinition,
  InvalidExecutionInput,
  InvalidName,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StateMachineAlreadyExists,
  StateMachineDoesNotExist,
  StopExecutionCommand,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { SfnLocal } from '../../apps/sfn-local/src';
import { closeLocal, createActivity, createMachine, errorOf, oneTask, ROLE, startLocal, unique, within } from './helpers';

describe('sfn-local state machines and executions', () => {
  let local: SfnLocal;
  let sfn: SFNClient;
  let activityArn: string;

  beforeAll(async () => {
    ({ local, sfn } = await startLocal(1));
    activityArn = await createActivity(sfn);
  });
  afterAll(() => closeLocal(local, sfn));

  const start = (stateMachineArn: string, input?: string, name?: string) =>
    sfn.send(new StartExecutionCommand({ stateMachineArn, input, name })).then((o) => o.executionArn!);
  const describeExec = (executionArn: string) => sfn.send(new DescribeExecutionCommand({ executionArn }));
  const history = async (executionArn: string) => (await sfn.send(new GetExecutionHistoryCommand({ executionArn }))).events!;

  it('creates (idempotently), describes, lists and deletes a state machine', async () => {
    const name = unique('crud');
    const definition = JSON.stringify(oneTask(activityArn));
    const a = await sfn.send(new CreateStateMachineCommand({ name, definition, roleArn: ROLE }));
    expect(a.stateMachineArn).toBe(`arn:aws:states:us-east-1:123456789012:stateMachine:${name}`);
    const again = await sfn.send(new CreateStateMachineCommand({ name, definition, roleArn: ROLE }));
    expect(again.stateMachineArn).toBe(a.stateMachineArn);
    const other = JSON.stringify({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } });
    expect(await errorOf(sfn.send(new CreateStateMachineCommand({ name, definition: other, roleArn: ROLE })))).toBeInstanceOf(
      StateMachineAlreadyExists,
    );
    const d = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: a.stateMachineArn }));
    expect(d).toMatchObject({ name, definition, roleArn: ROLE, status: 'ACTIVE', type: 'STANDARD' });
    const list = await sfn.send(new ListStateMachinesCommand({}));
    expect(list.stateMachines!.map((s) => s.name)).toContain(name);
    await sfn.send(new DeleteStateMachineCommand({ stateMachineArn: a.stateMachineArn }));
    expect(await errorOf(sfn.send(new DescribeStateMachineCommand({ stateMachineArn: a.stateMachineArn })))).toBeInstanceOf(
      StateMachineDoesNotExist,
    );
  });

  it.each([
    ['not JSON', '{', /INVALID_JSON/],
    ['an unsupported state type', { StartAt: 'M', States: { M: { Type: 'Map', End: true } } }, /Map/],
    ['Parameters', { StartAt: 'T', States: { T: { Type: 'Task', Resource: 'ACT', Parameters: {}, End: true } } }, /Parameters/],
    ['InputPath on a Pass', { StartAt: 'P', States: { P: { Type: 'Pass', InputPath: '$.a', End: true } } }, /InputPath/],
    [
      'a Lambda resource',
      { StartAt: 'T', States: { T: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:123456789012:function:f', End: true } } },
      /activity ARN/,
    ],
    ['a missing Next target', { StartAt: 'P', States: { P: { Type: 'Pass', Next: 'Nowhere' } } }, /Nowhere/],
    ['an unreachable state', { StartAt: 'P', States: { P: { Type: 'Pass', End: true }, Q: { Type: 'Succeed' } } }, /not reachable/],
    ['both Next and End', { StartAt: 'P', States: { P: { Type: 'Pass', Next: 'S', End: true }, S: { Type: 'Succeed' } } }, /exactly one/],
    [
      'HeartbeatSeconds >= TimeoutSeconds',
      { StartAt: 'T', States: { T: { Type: 'Task', Resource: 'ACT', TimeoutSeconds: 5, HeartbeatSeconds: 5, End: true } } },
      /HeartbeatSeconds/,
    ],
    [
      'States.ALL not last',
      {
        StartAt: 'T',
        States: {
          T: {
            Type: 'Task',
            Resource: 'ACT',
            End: true,
            Catch: [
              { ErrorEquals: ['States.ALL'], Next: 'F' },
              { ErrorEquals: ['X'], Next: 'F' },
            ],
          },
          F: { Type: 'Fail' },
        },
      },
      /States.ALL/,
    ],
    ['a JSONata definition', { QueryLanguage: 'JSONata', StartAt: 'P', States: { P: { Type: 'Pass', End: true } } }, /JSONPath/],
    [
      'a JSONPath ResultPath with filters',
      { StartAt: 'P', States: { P: { Type: 'Pass', ResultPath: '$.a[0]', End: true } } },
      /ResultPath/,
    ],
  ])('rejects a definition with %s as InvalidDefinition', async (_what, def, message) => {
    const definition = typeof def === 'string' ? def : JSON.stringify(def).replace(/"ACT"/g, JSON.stringify(activityArn));
    const err = await errorOf(sfn.send(new CreateStateMachineCommand({ name: unique('bad'), definition, roleArn: ROLE })));
    expect(err).toBeInstanceOf(InvalidDefinition);
    expect(err.message).toMatch(message);
  });

  it('runs Pass (Result, ResultPath) and Succeed states to SUCCEEDED with the right history', async () => {
    const sm = await createMachine(sfn, {
      StartAt: 'Add',
      States: { Add: { Type: 'Pass', Result: { v: 1 }, ResultPath: '$.added', Next: 'Done' }, Done: { Type: 'Succeed' } },
    });
    const arn = await start(sm, '{"keep":true}');
    const d = await describeExec(arn);
    expect(d.status).toBe('SUCCEEDED');
    expect(JSON.parse(d.output!)).toEqual({ keep: true, added: { v: 1 } });
    expect((await history(arn)).map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'PassStateEntered',
      'PassStateExited',
      'SucceedStateEntered',
      'SucceedStateExited',
      'ExecutionSucceeded',
    ]);
  });

  it('runs a Fail state to FAILED with its Error and Cause', async () => {
    const sm = await createMachine(sfn, { StartAt: 'F', States: { F: { Type: 'Fail', Error: 'Nope', Cause: 'because' } } });
    const arn = await start(sm);
    expect(await describeExec(arn)).toMatchObject({ status: 'FAILED', error: 'Nope', cause: 'because' });
  });

  it('records the activity events of a Task state with ids, previous ids and timestamps', async () => {
    const sm = await createMachine(sfn, oneTask(activityArn, { TimeoutSeconds: 30, HeartbeatSeconds: 10 }));
    const arn = await start(sm, '{"in":1}');
    const { taskToken } = await sfn.send(new GetActivityTaskCommand({ activityArn, workerName: 'hw' }));
    await sfn.send(new SendTaskSuccessCommand({ taskToken, output: '{"out":2}' }));
    const ev = await history(arn);
    expect(ev.map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'ActivityScheduled',
      'ActivityStarted',
      'ActivitySucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    ev.forEach((e, i) => {
      expect(e.id).toBe(i + 1);
      expect(e.previousEventId).toBe(i);
      expect(e.timestamp).toBeInstanceOf(Date);
    });
    expect(ev[0].executionStartedEventDetails?.input).toBe('{"in":1}');
    expect(ev[2].activityScheduledEventDetails).toMatchObject({ resource: activityArn, timeoutInSeconds: 30, heartbeatInSeconds: 10 });
    expect(ev[3].activityStartedEventDetails?.workerName).toBe('hw');
    expect(ev[4].activitySucceededEventDetails?.output).toBe('{"out":2}');
    expect(ev[6].executionSucceededEventDetails?.output).toBe('{"out":2}');
    const rev = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn: arn, reverseOrder: true, maxResults: 2, includeExecutionData: false }),
    );
    expect(rev.events!.map((e) => e.type)).toEqual(['ExecutionSucceeded', 'TaskStateExited']);
    expect(rev.events![0].executionSucceededEventDetails?.output).toBeUndefined();
    expect(rev.nextToken).toBeDefined();
  });

  it('validates StartExecution: missing machine, bad ARN, bad name, bad input, duplicate name', async () => {
    const sm = await createMachine(sfn, oneTask(activityArn));
    const missing = 'arn:aws:states:us-east-1:123456789012:stateMachine:missing';
    expect(await errorOf(start(missing))).toBeInstanceOf(StateMachineDoesNotExist);
    expect(await errorOf(start('arn:aws:states:us-east-1:123456789012:activity:x'))).toBeInstanceOf(InvalidArn);
    expect(await errorOf(start(sm, '{}', 'bad name'))).toBeInstanceOf(InvalidName);
    expect(await errorOf(start(sm, '{oops'))).toBeInstanceOf(InvalidExecutionInput);
    const name = unique('dup');
    const first = await start(sm, '{"a":1}', name);
    expect(await start(sm, '{"a":1}', name)).toBe(first); // idempotent while RUNNING with the same input
    expect(await errorOf(start(sm, '{"a":2}', name))).toBeInstanceOf(ExecutionAlreadyExists);
    await sfn.send(new StopExecutionCommand({ executionArn: first }));
    expect(await errorOf(describeExec(first.replace(name, 'nope')))).toBeInstanceOf(ExecutionDoesNotExist);
  });

  it('StopExecution aborts, closes the open task (later SendTask* -> TaskTimedOut)', async () => {
    const sm = await createMachine(sfn, oneTask(activityArn));
    const arn = await start(sm);
    const { taskToken } = await sfn.send(new GetActivityTaskCommand({ activityArn }));
    const stop = await sfn.send(new StopExecutionCommand({ executionArn: arn, error: 'Operator', cause: 'manual stop' }));
    expect(stop.stopDate).toBeInstanceOf(Date);
    expect(await describeExec(arn)).toMatchObject({ status: 'ABORTED', error: 'Operator', cause: 'manual stop' });
    expect(await errorOf(sfn.send(new SendTaskHeartbeatCommand({ taskToken })))).toBeInstanceOf(TaskTimedOut);
    expect(await errorOf(sfn.send(new SendTaskSuccessCommand({ taskToken, output: '{}' })))).toBeInstanceOf(TaskTimedOut);
    const ev = await history(arn);
    expect(ev[ev.length - 1]).toMatchObject({
      type: 'ExecutionAborted',
      executionAbortedEventDetails: { error: 'Operator', cause: 'manual stop' },
    });
    expect(local.tasks({ executionArn: arn })[0].closeReason).toBe('aborted');
  });

  it('StopExecution withdraws a task not yet handed out', async () => {
    const act = await createActivity(sfn);
    const sm = await createMachine(sfn, oneTask(act));
    const arn = await start(sm);
    expect(local.counters().pendingTasksByArn[act]).toBe(1);
    await sfn.send(new StopExecutionCommand({ executionArn: arn }));
    expect(local.counters().pendingTasksByArn[act]).toBeUndefined();
    const poll = await within(sfn.send(new GetActivityTaskCommand({ activityArn: act })), 5000, 'poll');
    expect(poll.taskToken).toBeUndefined();
    expect(local.tasks({ executionArn: arn })[0].status).toBe('withdrawn');
  });

  it('lists executions newest first, filtered by status, with pagination', async () => {
    const sm = await createMachine(sfn, oneTask(activityArn));
    const a = await start(sm);
    const b = await start(sm);
    const c = await start(sm);
    await sfn.send(new StopExecutionCommand({ executionArn: b }));
    const all = await sfn.send(new ListExecutionsCommand({ stateMachineArn: sm }));
    expect(all.executions!.map((e) => e.executionArn)).toEqual([c, b, a]);
    const aborted = await sfn.send(new ListExecutionsCommand({ stateMachineArn: sm, statusFilter: 'ABORTED' }));
    expect(aborted.executions!.map((e) => e.executionArn)).toEqual([b]);
    const page = await sfn.send(new ListExecutionsCommand({ stateMachineArn: sm, maxResults: 2 }));
    const rest = await sfn.send(new ListExecutionsCommand({ stateMachineArn: sm, maxResults: 2, nextToken: page.nextToken }));
    expect(rest.executions!.map((e) => e.executionArn)).toEqual([a]);
    for (const x of [a, c]) await sfn.send(new StopExecutionCommand({ executionArn: x }));
  });
});
