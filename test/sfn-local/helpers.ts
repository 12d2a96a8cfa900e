import { withTimeout } from '@bridge/common';
import { request, Agent } from 'node:http';
import { CreateActivityCommand, CreateStateMachineCommand, SFNClient, SFNClientConfig } from '@aws-sdk/client-sfn';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { SfnLocal, startSfnLocal } from '../../apps/sfn-local/src';

export function sfnClient(local: SfnLocal, extra: Partial<SFNClientConfig> = {}): SFNClient {
  return new SFNClient({
    region: 'us-east-1',
    endpoint: local.url,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets: 200 }) }),
    ...extra,
  });
}

/** A quiet emulator and an SDK client on it. */
export async function startLocal(pollSeconds: number, extra: Partial<SFNClientConfig> = {}): Promise<{ local: SfnLocal; sfn: SFNClient }> {
  const local = await startSfnLocal({ quiet: true, pollSeconds });
  return { local, sfn: sfnClient(local, extra) };
}

/** Destroys the clients, then closes the emulator. */
export async function closeLocal(local: SfnLocal | undefined, ...clients: (SFNClient | undefined)[]): Promise<void> {
  for (const c of clients) c?.destroy();
  await local?.close();
}

/** Resolves with p, or rejects if it takes longer than ms. */
export const within = withTimeout;

/** Waits for a condition on emulator state that has no event of its own (bounded). */
export async function until(cond: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`${what} not reached within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The error a promise rejects with (fails if it resolves). */
export async function errorOf(p: Promise<unknown>, ms = 10_000): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await within(p, ms, 'call');
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the call to fail, it succeeded');
}

let seq = 0;
export const unique = (prefix: string) => `${prefix}-${process.pid}-${++seq}`;

export async function createActivity(sfn: SFNClient, name = unique('act')): Promise<string> {
  return (await sfn.send(new CreateActivityCommand({ name }))).activityArn!;
}

export const ROLE = 'arn:aws:iam::123456789012:role/test';

export async function createMachine(sfn: SFNClient, definition: object, name = unique('sm')): Promise<string> {
  const out = await sfn.send(new CreateStateMachineCommand({ name, roleArn: ROLE, definition: JSON.stringify(definition) }));
  return out.stateMachineArn!;
}

export const oneTask = (activityArn: string, extra: object = {}) => ({
  StartAt: 'Work',
  States: { Work: { Type: 'Task', Resource: activityArn, End: true, ...extra } },
});

/** A raw awsJson1_0 call (for things the SDK cannot send, or a custom agent). */
export function rawCall(
  url: string,
  target: string,
  body: unknown,
  agent?: Agent,
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const data = typeof body === 'string' ? body : JSON.stringify(body);
    const req = request(
      `${url}/`,
      {
        method: 'POST',
        agent,
        headers: { 'X-Amz-Target': target, 'Content-Type': 'application/x-amz-json-1.0', 'Content-Length': Buffer.byteLength(data) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : {} }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}
