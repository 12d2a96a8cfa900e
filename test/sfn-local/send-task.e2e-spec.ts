import {
  DescribeExecutionCommand,
  GetActivityTaskCommand,
  InvalidOutput,
  InvalidToken,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  TaskDoesNotExist,
  TaskTimedOut,
  ValidationException,
} from '@aws-sdk/client-sfn';
import { createHash } from 'node:crypto';
import { SfnLocal, startSfnLocal } from '../../apps/sfn-local/src';
import { closeLocal, createActivity, createMachine, errorOf, oneTask, sfnClient, startLocal } from './helpers';

describe('sfn-local task tokens and SendTask*', () => {
  let local: SfnLocal;
  let sfn: SFNClient;
  let activityArn: string;
  let sm: string;

  beforeAll(async () => {
    ({ local, sfn } = await startLocal(2));
    activityArn = await createActivity(sfn);
    sm = await createMachine(sfn, oneTask(activityArn));
  });
  afterAll(() => closeLocal(local, sfn));

  /** Starts an execution and takes its task. */
  async function takeTask(input = '{"a":1}') {
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: sm, input }));
    const t = await sfn.send(new GetActivityTaskCommand({ activityArn, workerName: 'w' }));
    expect(t.taskToken).toBeDefined();
    return { executionArn: executionArn!, token: t.taskToken!, input: t.input! };
  }
  const describe_ = (executionArn: string) => sfn.send(new DescribeExecutionCommand({ executionArn }));

  it('issues long opaque base64 tokens with +, / and =, unique per task', async () => {
    const a = await takeTask();
    const b = await takeTask();
    for (const t of [a.token, b.token]) {
      expect(t.length).toBeGreaterThanOrEqual(600);
      expect(t.length).toBeLessThanOrEqual(1000);
      expect(t).toMatch(/^[A-Za-z0-9+/]+=*$/);
      expect(t).toContain('+');
      expect(t).toContain('/');
      expect(t.endsWith('=')).toBe(true);
    }
    expect(a.token).not.toBe(b.token);
    const [rec] = local.tasks({ tokenHash: createHash('sha256').update(a.token).digest('hex') });
    expect(rec.executionArn).toBe(a.executionArn);
    await sfn.send(new SendTaskSuccessCommand({ taskToken: a.token, output: '1' }));
    await sfn.send(new SendTaskSuccessCommand({ taskToken: b.token, output: '2' }));
  });

  it('SendTaskSuccess ends the execution SUCCEEDED with the output, and records the task timestamps', async () => {
    const { executionArn, token } = await takeTask();
    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{"ok":true}' }));
    const d = await describe_(executionArn);
    expect(d.status).toBe('SUCCEEDED');
    expect(JSON.parse(d.output!)).toEqual({ ok: true });
    expect(d.stopDate).toBeInstanceOf(Date);
    const [rec] = local.tasks({ executionArn });
    expect(rec).toMatchObject({ status: 'closed', closeReason: 'succeeded', workerName: 'w' });
    expect(rec.scheduledAt).toBeLessThanOrEqual(rec.handedOutAt!);
    expect(rec.handedOutAt).toBeLessThanOrEqual(rec.closedAt!);
  });

  it('SendTaskFailure ends the execution FAILED with error and cause', async () => {
    const { executionArn, token } = await takeTask();
    await sfn.send(new SendTaskFailureCommand({ taskToken: token, error: 'PaymentDeclined', cause: 'card expired' }));
    const d = await describe_(executionArn);
    expect(d).toMatchObject({ status: 'FAILED', error: 'PaymentDeclined', cause: 'card expired' });
  });

  it('answers TaskTimedOut to any SendTask* on a closed token, counting duplicates', async () => {
    const { token } = await takeTask();
    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }));
    const before = local.counters().duplicateSendTask;
    expect(await errorOf(sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' })))).toBeInstanceOf(TaskTimedOut);
    expect(await errorOf(sfn.send(new SendTaskFailureCommand({ taskToken: token, error: 'E' })))).toBeInstanceOf(TaskTimedOut);
    expect(await errorOf(sfn.send(new SendTaskHeartbeatCommand({ taskToken: token })))).toBeInstanceOf(TaskTimedOut);
    expect(local.counters().duplicateSendTask).toBe(before + 3);
  });

  it('answers InvalidToken for malformed and tampered tokens', async () => {
    const { token } = await takeTask();
    expect(await errorOf(sfn.send(new SendTaskHeartbeatCommand({ taskToken: 'garbage' })))).toBeInstanceOf(InvalidToken);
    const i = 300;
    const tampered = token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
    expect(await errorOf(sfn.send(new SendTaskSuccessCommand({ taskToken: tampered, output: '{}' })))).toBeInstanceOf(InvalidToken);
    // The real task is untouched by the bad attempts.
    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }));
  });

  it('answers TaskDoesNotExist for a well-formed token this emulator does not know', async () => {
    const other = await startSfnLocal({ quiet: true, pollSeconds: 1 });
    const otherSfn = sfnClient(other);
    try {
      const arn = await createActivity(otherSfn);
      const m = await createMachine(otherSfn, oneTask(arn));
      await otherSfn.send(new StartExecutionCommand({ stateMachineArn: m }));
      const { taskToken } = await otherSfn.send(new GetActivityTaskCommand({ activityArn: arn }));
      expect(await errorOf(sfn.send(new SendTaskHeartbeatCommand({ taskToken })))).toBeInstanceOf(TaskDoesNotExist);
      // After a reset, tokens issued before it are unknown too.
      other.reset();
      expect(await errorOf(otherSfn.send(new SendTaskSuccessCommand({ taskToken, output: '{}' })))).toBeInstanceOf(TaskDoesNotExist);
    } finally {
      otherSfn.destroy();
      await other.close();
    }
  });

  it('answers InvalidOutput for output that is not JSON, leaving the task open', async () => {
    const { executionArn, token } = await takeTask();
    expect(await errorOf(sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{not json' })))).toBeInstanceOf(InvalidOutput);
    expect((await describe_(executionArn)).status).toBe('RUNNING');
    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '"fine"' }));
    expect((await describe_(executionArn)).output).toBe('"fine"');
  });

  it('enforces the 262,144-byte output limit in UTF-8 bytes (ValidationException)', async () => {
    const { executionArn, token } = await takeTask();
    const exact = JSON.stringify('x'.repeat(262_144 - 2));
    const overByBytes = JSON.stringify('é'.repeat(131_072)); // 131,074 chars, 262,146 bytes
    expect(await errorOf(sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: overByBytes })))).toBeInstanceOf(
      ValidationException,
    );
    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: exact }));
    expect((await describe_(executionArn)).output!.length).toBe(262_144);
  });

  it('enforces error <= 256 and cause <= 32,768 characters, and token <= 2,048 (ValidationException)', async () => {
    const { token } = await takeTask();
    expect(await errorOf(sfn.send(new SendTaskFailureCommand({ taskToken: token, error: 'e'.repeat(257) })))).toBeInstanceOf(
      ValidationException,
    );
    expect(await errorOf(sfn.send(new SendTaskFailureCommand({ taskToken: token, cause: 'c'.repeat(32_769) })))).toBeInstanceOf(
      ValidationException,
    );
    expect(await errorOf(sfn.send(new SendTaskHeartbeatCommand({ taskToken: 'A'.repeat(2049) })))).toBeInstanceOf(ValidationException);
    await sfn.send(new SendTaskFailureCommand({ taskToken: token, error: 'e'.repeat(256), cause: 'c'.repeat(32_768) }));
  });

  it('counts heartbeats and records the last one', async () => {
    const { executionArn, token } = await takeTask();
    const before = local.counters().heartbeats;
    await sfn.send(new SendTaskHeartbeatCommand({ taskToken: token }));
    await sfn.send(new SendTaskHeartbeatCommand({ taskToken: token }));
    expect(local.counters().heartbeats).toBe(before + 2);
    expect(local.tasks({ executionArn })[0].lastHeartbeatAt).toBeDefined();
    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }));
  });
});
