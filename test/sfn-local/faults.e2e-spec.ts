import { createHash } from 'node:crypto';
import { Agent } from 'node:http';
import {
  GetActivityTaskCommand,
  ListActivitiesCommand,
  SendTaskSuccessCommand,
  SFNClient,
  SFNServiceException,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { SfnLocal, SfnLocalControl } from '../../apps/sfn-local/src';
import { closeLocal, createActivity, createMachine, errorOf, oneTask, rawCall, sfnClient, startLocal, within } from './helpers';

describe('sfn-local fault injection, counters and the /_local/ control client', () => {
  let local: SfnLocal;
  let sfn: SFNClient; // no SDK retries: we assert on the raw fault
  let retrying: SFNClient;

  beforeAll(async () => {
    ({ local, sfn } = await startLocal(1, { maxAttempts: 1 }));
    retrying = sfnClient(local, { maxAttempts: 3 });
  });
  afterEach(() => local.clearFaults());
  afterAll(() => closeLocal(local, sfn, retrying));

  const list = (c = sfn) => c.send(new ListActivitiesCommand({}));

  it('throttles with a ThrottlingException (HTTP 400) the SDK recognises, for count calls only', async () => {
    local.resetCounters();
    local.injectFault({ action: 'ListActivities', kind: 'throttle', count: 1 });
    const err = await errorOf(list());
    expect(err).toBeInstanceOf(SFNServiceException);
    expect(err.name).toBe('ThrottlingException');
    expect(err.$metadata?.httpStatusCode).toBe(400);
    await list(); // count exhausted
    const c = local.counters();
    expect(c.errors.ListActivities).toEqual({ ThrottlingException: 1 });
    expect(c.calls.ListActivities).toBe(2);
    expect(c.faultsFired.throttle).toBe(1);
  });

  it('lets the SDK retry through a transient throttle', async () => {
    local.resetCounters();
    local.injectFault({ action: 'ListActivities', kind: 'throttle', count: 2 });
    await within(list(retrying), 10_000, 'retried call');
    expect(local.counters().calls.ListActivities).toBe(3);
  });

  it.each([
    ['http500', 500, 'InternalFailure'],
    ['http503', 503, 'ServiceUnavailable'],
  ] as const)('answers %s with that HTTP status', async (kind, status, name) => {
    local.injectFault({ action: 'ListActivities', kind, count: 1 });
    const err = await errorOf(list());
    expect(err.$metadata?.httpStatusCode).toBe(status);
    expect(err.name).toBe(name);
    expect(local.counters().errors.ListActivities[`HTTP${status}`]).toBeGreaterThanOrEqual(1);
  });

  it('drops a GetActivityTask connection before any task is taken, so the task goes to the next poll', async () => {
    const act = await createActivity(sfn);
    await sfn.send(new StartExecutionCommand({ stateMachineArn: await createMachine(sfn, oneTask(act)) }));
    local.injectFault({ action: 'GetActivityTask', kind: 'drop', count: 1 });
    const agent = new Agent({ keepAlive: true });
    try {
      const dropped = await errorOf(rawCall(local.url, 'AWSStepFunctions.GetActivityTask', { activityArn: act }, agent));
      expect(dropped.message).toMatch(/socket hang up|ECONNRESET/);
    } finally {
      agent.destroy();
    }
    expect(local.counters().pendingTasksByArn[act]).toBe(1);
    const t = await sfn.send(new GetActivityTaskCommand({ activityArn: act }));
    expect(t.taskToken).toBeDefined();
    await sfn.send(new SendTaskSuccessCommand({ taskToken: t.taskToken, output: '{}' }));
  });

  it('adds latency, then answers normally', async () => {
    local.injectFault({ action: 'ListActivities', kind: 'latency', latencyMs: 300, count: 1 });
    const t0 = Date.now();
    await list();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
  });

  it('fires by probability (0 never, 1 always) and on every action with "*"', async () => {
    local.injectFault({ kind: 'http503', probability: 0 });
    await list();
    local.clearFaults();
    local.injectFault({ kind: 'throttle', probability: 1, count: 2 });
    expect((await errorOf(list())).name).toBe('ThrottlingException');
    expect((await errorOf(sfn.send(new GetActivityTaskCommand({ activityArn: 'x' })))).name).toBe('ThrottlingException');
    await list();
  });

  it('clears faults per action or all of them', async () => {
    local.injectFault({ action: 'ListActivities', kind: 'throttle' });
    local.injectFault({ action: 'DescribeActivity', kind: 'throttle' });
    expect(local.clearFaults('ListActivities')).toBe(1);
    await list();
    expect(local.listFaults().map((f) => f.action)).toEqual(['DescribeActivity']);
    expect(local.clearFaults()).toBe(1);
    expect(local.listFaults()).toEqual([]);
  });

  it('drives everything over HTTP with SfnLocalControl', async () => {
    const ctl = new SfnLocalControl(local.url);
    expect((await ctl.health()).ok).toBe(true);
    await ctl.resetCounters();
    const f = await ctl.injectFault({ action: 'ListActivities', kind: 'http503', count: 1 });
    expect(f).toMatchObject({ action: 'ListActivities', kind: 'http503', remaining: 1 });
    expect((await errorOf(list())).$metadata?.httpStatusCode).toBe(503);
    expect((await ctl.counters()).errors.ListActivities.HTTP503).toBe(1);
    await ctl.injectFault({ kind: 'latency', latencyMs: 5 });
    expect(await ctl.listFaults()).toHaveLength(1);
    expect(await ctl.clearFaults()).toBe(1);
    await ctl.setPollSeconds(2);
    expect(await ctl.getPollSeconds()).toBe(2);
    expect(local.pollSeconds).toBe(2);
    await ctl.setPollSeconds(1);
    await expect(ctl.setPollSeconds(-1)).rejects.toThrow(/pollSeconds/);
    await expect(ctl.injectFault({ kind: 'nope' as never })).rejects.toThrow(/kind/);

    const act = await createActivity(sfn);
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: await createMachine(sfn, oneTask(act)) }));
    const { taskToken } = await sfn.send(new GetActivityTaskCommand({ activityArn: act, workerName: 'ctl' }));
    const byToken = await ctl.tasks({ token: taskToken });
    expect(byToken[0]).toMatchObject({ executionArn, status: 'started', workerName: 'ctl' });
    expect(byToken[0].tokenHash).toBe(createHash('sha256').update(taskToken!).digest('hex'));
    expect((await ctl.tasks({ executionArn }))[0].handedOutAt).toBeGreaterThanOrEqual(byToken[0].scheduledAt);
    const c = await ctl.counters();
    expect(c.tasksHandedOut).toBe(1);
    expect(c.openTasks).toBe(1);
    const p = await ctl.process();
    expect(p.pid).toBe(process.pid);
    expect(p.cpu.user).toBeGreaterThan(0);
    await ctl.reset();
    expect((await ctl.counters()).calls).toEqual({});
    expect((await list()).activities).toEqual([]);
  });
});
