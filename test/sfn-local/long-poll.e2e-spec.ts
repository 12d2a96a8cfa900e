import { Agent } from 'node:http';
import {
  ActivityWorkerLimitExceeded,
  GetActivityTaskCommand,
  GetExecutionHistoryCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { MAX_PARKED_POLLS, SfnLocal, startSfnLocal } from '../../apps/sfn-local/src';
import { closeLocal, createActivity, createMachine, errorOf, oneTask, rawCall, sfnClient, startLocal, until, within } from './helpers';

describe('sfn-local GetActivityTask long poll', () => {
  let local: SfnLocal;
  let sfn: SFNClient;

  beforeAll(async () => {
    ({ local, sfn } = await startLocal(1));
  });
  afterAll(() => closeLocal(local, sfn));

  const parked = (arn: string) => local.counters().parkedPollsByArn[arn] ?? 0;

  it('holds a poll for pollSeconds, then answers with no taskToken', async () => {
    const activityArn = await createActivity(sfn);
    const t0 = Date.now();
    const out = await within(sfn.send(new GetActivityTaskCommand({ activityArn })), 5000, 'empty poll');
    const held = Date.now() - t0;
    expect(out.taskToken).toBeUndefined();
    expect(out.input).toBeUndefined();
    expect(held).toBeGreaterThanOrEqual(950);
    expect(held).toBeLessThan(3000);
    expect(local.counters().emptyPolls).toBeGreaterThanOrEqual(1);
  });

  it('applies a runtime pollSeconds change to later polls', async () => {
    const activityArn = await createActivity(sfn);
    local.setPollSeconds(0);
    try {
      const t0 = Date.now();
      const out = await within(sfn.send(new GetActivityTaskCommand({ activityArn })), 2000, 'zero-hold poll');
      expect(out.taskToken).toBeUndefined();
      expect(Date.now() - t0).toBeLessThan(500);
    } finally {
      local.setPollSeconds(1);
    }
  });

  it('hands a task to a parked poll as soon as an execution starts, with its input and workerName in history', async () => {
    local.setPollSeconds(20);
    try {
      const activityArn = await createActivity(sfn);
      const sm = await createMachine(sfn, oneTask(activityArn));
      const poll = sfn.send(new GetActivityTaskCommand({ activityArn, workerName: 'worker-7' }));
      await until(() => parked(activityArn) === 1, 5000, 'poll parked');
      const t0 = Date.now();
      const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: sm, input: '{"n":42}' }));
      const task = await within(poll, 2000, 'parked poll answer');
      expect(Date.now() - t0).toBeLessThan(1000);
      expect(task.taskToken).toBeDefined();
      expect(JSON.parse(task.input!)).toEqual({ n: 42 });
      const h = await sfn.send(new GetExecutionHistoryCommand({ executionArn }));
      const started = h.events!.find((e) => e.type === 'ActivityStarted');
      expect(started?.activityStartedEventDetails?.workerName).toBe('worker-7');
    } finally {
      local.setPollSeconds(1);
    }
  });

  it('hands tasks out in FIFO order to polls in arrival order', async () => {
    const activityArn = await createActivity(sfn);
    const sm = await createMachine(sfn, oneTask(activityArn));
    for (let i = 0; i < 3; i++) await sfn.send(new StartExecutionCommand({ stateMachineArn: sm, input: JSON.stringify({ i }) }));
    const got: number[] = [];
    for (let i = 0; i < 3; i++) got.push(JSON.parse((await sfn.send(new GetActivityTaskCommand({ activityArn }))).input!).i);
    expect(got).toEqual([0, 1, 2]);
  });

  it('never hands a task to a poll aborted by its client; the next poll gets it', async () => {
    local.setPollSeconds(20);
    try {
      const activityArn = await createActivity(sfn);
      const sm = await createMachine(sfn, oneTask(activityArn));
      const abandonedBefore = local.counters().pollsAbandoned;
      const ac = new AbortController();
      const aborted = sfn.send(new GetActivityTaskCommand({ activityArn }), { abortSignal: ac.signal });
      await until(() => parked(activityArn) === 1, 5000, 'poll parked');
      ac.abort();
      const err = await errorOf(aborted);
      expect(err.name).toBe('AbortError');
      await until(() => parked(activityArn) === 0, 5000, 'server noticed the aborted poll');
      expect(local.counters().pollsAbandoned).toBe(abandonedBefore + 1);
      const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: sm, input: '{"x":1}' }));
      const next = await within(sfn.send(new GetActivityTaskCommand({ activityArn })), 2000, 'next poll');
      expect(next.taskToken).toBeDefined();
      const [rec] = local.tasks({ executionArn: executionArn! });
      expect(rec.status).toBe('started');
    } finally {
      local.setPollSeconds(1);
    }
  });

  it(`caps parked polls at ${MAX_PARKED_POLLS} per activity ARN with ActivityWorkerLimitExceeded`, async () => {
    const capped = await startSfnLocal({ quiet: true, pollSeconds: 30 });
    const capSfn = sfnClient(capped);
    const agent = new Agent({ keepAlive: true, maxSockets: MAX_PARKED_POLLS + 10 });
    try {
      const activityArn = await createActivity(capSfn);
      const other = await createActivity(capSfn);
      const polls = Array.from({ length: MAX_PARKED_POLLS }, () =>
        rawCall(capped.url, 'AWSStepFunctions.GetActivityTask', { activityArn }, agent),
      );
      await until(() => capped.counters().parkedPollsByArn[activityArn] === MAX_PARKED_POLLS, 15_000, '1000 parked polls');
      const over = await within(rawCall(capped.url, 'AWSStepFunctions.GetActivityTask', { activityArn }, agent), 5000, 'poll 1001');
      expect(over.status).toBe(400);
      expect(over.body.__type).toBe('ActivityWorkerLimitExceeded');
      const sdkErr = await errorOf(capSfn.send(new GetActivityTaskCommand({ activityArn })));
      expect(sdkErr).toBeInstanceOf(ActivityWorkerLimitExceeded);
      // The cap is per ARN: another activity still parks.
      const otherPoll = rawCall(capped.url, 'AWSStepFunctions.GetActivityTask', { activityArn: other }, agent);
      await until(() => capped.counters().parkedPollsByArn[other] === 1, 5000, 'other ARN parked');
      await capped.close();
      const answers = await within(Promise.all([...polls, otherPoll]), 10_000, 'release on close');
      expect(answers.every((a) => a.status === 200 && a.body.taskToken === undefined)).toBe(true);
    } finally {
      agent.destroy();
      capSfn.destroy();
      await capped.close().catch(() => undefined);
    }
  });
});
