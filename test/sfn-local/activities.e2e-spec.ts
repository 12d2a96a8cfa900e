import {
  ActivityDoesNotExist,
  CreateActivityCommand,
  DeleteActivityCommand,
  DescribeActivityCommand,
  GetActivityTaskCommand,
  InvalidArn,
  InvalidName,
  InvalidToken,
  ListActivitiesCommand,
  SFNClient,
  ValidationException,
} from '@aws-sdk/client-sfn';
import { SfnLocal } from '../../apps/sfn-local/src';
import { closeLocal, errorOf, rawCall, startLocal, unique, until } from './helpers';

describe('sfn-local activities', () => {
  let local: SfnLocal;
  let sfn: SFNClient;

  beforeAll(async () => {
    ({ local, sfn } = await startLocal(1));
  });
  afterAll(() => closeLocal(local, sfn));

  it('creates an activity with the AWS ARN format, idempotently by name', async () => {
    const name = unique('create');
    const a = await sfn.send(new CreateActivityCommand({ name }));
    expect(a.activityArn).toBe(`arn:aws:states:us-east-1:123456789012:activity:${name}`);
    expect(a.creationDate).toBeInstanceOf(Date);
    const b = await sfn.send(new CreateActivityCommand({ name }));
    expect(b.activityArn).toBe(a.activityArn);
    expect(b.creationDate!.getTime()).toBe(a.creationDate!.getTime());
  });

  it('describes an activity, and answers ActivityDoesNotExist for an unknown one', async () => {
    const name = unique('describe');
    const { activityArn } = await sfn.send(new CreateActivityCommand({ name }));
    const d = await sfn.send(new DescribeActivityCommand({ activityArn }));
    expect(d).toMatchObject({ activityArn, name });
    const err = await errorOf(sfn.send(new DescribeActivityCommand({ activityArn: `${activityArn}-nope` })));
    expect(err).toBeInstanceOf(ActivityDoesNotExist);
    expect(err.$metadata?.httpStatusCode).toBe(400);
  });

  it('lists activities page by page with nextToken', async () => {
    const names = [unique('list'), unique('list'), unique('list')];
    for (const name of names) await sfn.send(new CreateActivityCommand({ name }));
    const seen: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await sfn.send(new ListActivitiesCommand({ maxResults: 2, nextToken }));
      expect(page.activities!.length).toBeLessThanOrEqual(2);
      seen.push(...page.activities!.map((a) => a.name!));
      nextToken = page.nextToken;
      pages++;
    } while (nextToken);
    expect(pages).toBeGreaterThanOrEqual(2);
    expect(seen).toEqual(expect.arrayContaining(names));
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('rejects a forged ListActivities nextToken with InvalidToken', async () => {
    const err = await errorOf(sfn.send(new ListActivitiesCommand({ nextToken: 'bm90LWEtdG9rZW4=' })));
    expect(err).toBeInstanceOf(InvalidToken);
  });

  it('deletes an activity (idempotently); polls on it then get ActivityDoesNotExist', async () => {
    const { activityArn } = await sfn.send(new CreateActivityCommand({ name: unique('delete') }));
    await sfn.send(new DeleteActivityCommand({ activityArn }));
    await sfn.send(new DeleteActivityCommand({ activityArn }));
    const err = await errorOf(sfn.send(new GetActivityTaskCommand({ activityArn })));
    expect(err).toBeInstanceOf(ActivityDoesNotExist);
  });

  it('answers polls parked on a deleted activity at once, with no task', async () => {
    const { activityArn } = await sfn.send(new CreateActivityCommand({ name: unique('delparked') }));
    local.setPollSeconds(30);
    try {
      const poll = sfn.send(new GetActivityTaskCommand({ activityArn }));
      const t0 = Date.now();
      await until(() => local.counters().parkedPollsByArn[activityArn!] === 1, 5000, 'poll parked');
      await sfn.send(new DeleteActivityCommand({ activityArn }));
      const out = await poll;
      expect(out.taskToken).toBeUndefined();
      expect(Date.now() - t0).toBeLessThan(5000);
    } finally {
      local.setPollSeconds(1);
    }
  });

  it('rejects bad names with InvalidName and malformed ARNs with InvalidArn', async () => {
    expect(await errorOf(sfn.send(new CreateActivityCommand({ name: 'has space' })))).toBeInstanceOf(InvalidName);
    expect(await errorOf(sfn.send(new CreateActivityCommand({ name: 'x'.repeat(81) })))).toBeInstanceOf(ValidationException);
    expect(await errorOf(sfn.send(new DescribeActivityCommand({ activityArn: 'not-an-arn' })))).toBeInstanceOf(InvalidArn);
    const smArn = 'arn:aws:states:us-east-1:123456789012:stateMachine:x';
    expect(await errorOf(sfn.send(new GetActivityTaskCommand({ activityArn: smArn })))).toBeInstanceOf(InvalidArn);
    expect(await errorOf(sfn.send(new DeleteActivityCommand({ activityArn: 'arn:aws:states:nope' })))).toBeInstanceOf(InvalidArn);
  });

  it('answers a missing required member with ValidationException', async () => {
    const err = await errorOf(sfn.send(new DescribeActivityCommand({} as never)));
    expect(err).toBeInstanceOf(ValidationException);
    expect(err.message).toMatch(/activityArn/);
  });

  it('answers an unknown action with UnknownOperationException (HTTP 400, awsJson error body)', async () => {
    const res = await rawCall(local.url, 'AWSStepFunctions.LaunchRockets', {});
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ __type: 'UnknownOperationException', message: expect.stringContaining('LaunchRockets') });
    const noPrefix = await rawCall(local.url, 'ListActivities', {});
    expect(noPrefix.body.__type).toBe('UnknownOperationException');
  });

  it('answers a body that is not JSON with SerializationException', async () => {
    const res = await rawCall(local.url, 'AWSStepFunctions.ListActivities', '{nope');
    expect(res.status).toBe(400);
    expect(res.body.__type).toBe('SerializationException');
  });
});
