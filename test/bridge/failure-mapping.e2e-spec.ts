import { SFNClient } from '@aws-sdk/client-sfn';
import { Job, Queue } from 'bullmq';
import { SfnLocal } from '../../apps/sfn-local/src';
import { BridgeFixture } from '../support/bridge-fixture';
import { duplicateRelays } from '../support/relay-counters';
import { createActivityMachine, startExecution, waitForExecution } from '../support/sfn';

/**
 * docs/design.md section 2 end to end: what a consumer returns or throws becomes the execution's
 * output or its `error` / `cause`, within Step Functions' limits, through the emulator over HTTP,
 * real Redis and a real BullMQ worker. One worker serves every case; `job.data.case` picks it.
 */

class PaymentDeclined extends Error {
  override name = 'PaymentDeclined';
}

/** A name far beyond Step Functions' 256-character `error` limit. */
class HugeName extends Error {
  override name = `Unexpected${'X'.repeat(1_000)}`;
}

/**
 * What BullMQ for Python stores for `raise PaymentDeclined("card expired")` in a processor:
 * `stacktrace` gets `traceback.format_exc()` and `failedReason` gets `json.dumps(str(err))`
 * (a JSON string, quotes included). Both clients finish a job through the same Lua script
 * (moveToFinished), and the Node client stores exactly `err.message` as `failedReason` and pushes
 * `err.stack` onto `stacktrace`; so a Node processor throwing an Error with that message and that
 * stack writes the same job hash a Python worker would (the test checks the stored fields too).
 */
const PYTHON_TRACEBACK = [
  'Traceback (most recent call last):',
  '  File "/usr/local/lib/python3.11/site-packages/bullmq/worker.py", line 187, in processJob',
  '    result = await self.processor(job, token)',
  '             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^',
  '  File "/app/worker.py", line 14, in process',
  '    raise PaymentDeclined("card expired")',
  'app.errors.PaymentDeclined: card expired',
  '',
].join('\n');

function pythonStyleFailure(): Error {
  const err = new Error(JSON.stringify('card expired'));
  err.stack = PYTHON_TRACEBACK;
  return err;
}

const BIG_OUTPUT = { blob: 'x'.repeat(300 * 1024) };
const HUGE_MESSAGE = 'm'.repeat(1024 * 1024);
const TRUNCATION_MARKER = /…\[truncated \d+ chars\]$/;

function circular(): unknown {
  const node: Record<string, unknown> = { id: 1 };
  node.self = node;
  return node;
}

async function processCase(job: Job): Promise<unknown> {
  switch (job.data.case) {
    case 'ok':
      return { echoed: job.data.value };
    case 'node-subclass':
      throw new PaymentDeclined('card ending 0002 declined');
    case 'python-traceback':
      throw pythonStyleFailure();
    case 'json-reason':
      throw new Error(JSON.stringify({ error: 'Custom.Err', cause: 'why' }));
    case 'output-too-large':
      return BIG_OUTPUT;
    case 'bigint':
      return { amount: 10n };
    case 'circular':
      return circular();
    case 'huge-message':
      throw new PaymentDeclined(HUGE_MESSAGE);
    case 'huge-name':
      throw new HugeName('name too long');
    default:
      throw new Error(`unknown case ${job.data.case}`);
  }
}

describe('bridge failure and output mapping (emulator over HTTP, real Redis, real BullMQ worker)', () => {
  let fx: BridgeFixture;
  let sfnLocal: SfnLocal;
  let sfn: SFNClient;
  let childQueue: Queue;
  let machine: Awaited<ReturnType<typeof createActivityMachine>>;
  const workerErrors: Error[] = [];

  beforeAll(async () => {
    fx = await BridgeFixture.start({ label: 'outcomes', binding: { pollers: 4 } });
    ({ sfnLocal, sfn, machine } = fx);
    const worker = fx.worker(processCase, { concurrency: 8 });
    // BullMQ reports a return value it cannot serialise on 'error' as well as failing the job.
    worker.on('error', (err) => workerErrors.push(err));
    childQueue = fx.openQueue();
  });

  afterAll(() => fx?.close());

  /** Runs one execution to its end; returns its description and the consumer's job. */
  async function run(input: Record<string, unknown>) {
    const arn = await startExecution(sfn, machine.stateMachineArn, input);
    const execution = await waitForExecution(sfn, arn, 20_000);
    const [task] = sfnLocal.tasks({ executionArn: arn });
    const job = task?.tokenHash ? await Job.fromId(childQueue, task.tokenHash) : undefined;
    return { execution, job };
  }

  it('succeeds with the return value as output (control case)', async () => {
    const { execution } = await run({ case: 'ok', value: 42 });
    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output!)).toEqual({ echoed: 42 });
  });

  it('fails with the name of a thrown Node Error subclass and its message as cause', async () => {
    const { execution } = await run({ case: 'node-subclass' });
    expect({ status: execution.status, error: execution.error, cause: execution.cause }).toEqual({
      status: 'FAILED',
      error: 'PaymentDeclined',
      cause: 'card ending 0002 declined',
    });
  });

  it('fails with the exception name of a Python traceback and the decoded message as cause', async () => {
    const { execution, job } = await run({ case: 'python-traceback' });
    // The job hash holds what BullMQ for Python writes.
    expect(job?.failedReason).toBe('"card expired"');
    expect(job?.stacktrace?.at(-1)).toBe(PYTHON_TRACEBACK);
    expect({ status: execution.status, error: execution.error, cause: execution.cause }).toEqual({
      status: 'FAILED',
      error: 'PaymentDeclined',
      cause: 'card expired',
    });
  });

  it('takes a failure reason that is a JSON {"error","cause"} object as given', async () => {
    const { execution } = await run({ case: 'json-reason' });
    expect({ status: execution.status, error: execution.error, cause: execution.cause }).toEqual({
      status: 'FAILED',
      error: 'Custom.Err',
      cause: 'why',
    });
  });

  it('fails ~300 KB of output with Bridge.OutputTooLarge naming the size, instead of dropping it', async () => {
    const { execution, job } = await run({ case: 'output-too-large' });
    const bytes = Buffer.byteLength(JSON.stringify(BIG_OUTPUT));
    expect(job?.finishedOn).toBeDefined(); // the job itself completed
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('Bridge.OutputTooLarge');
    expect(execution.cause).toContain(String(bytes).replace(/\B(?=(\d{3})+(?!\d))/g, ',')); // e.g. 307,212
    expect(execution.cause).toContain('262,144');
  });

  // BullMQ (6.7) JSON.stringifies the return value in Job.moveToCompleted; when that throws, the
  // worker emits 'error' and fails the job with the TypeError (failedReason = its message, stack =
  // its stack). The relay recognises that stack and reports Bridge.OutputNotSerializable.
  it.each([
    ['a BigInt', 'bigint', /BigInt/],
    ['a circular structure', 'circular', /circular/i],
  ])(
    'fails an execution whose worker returns %s with Bridge.OutputNotSerializable, neither hanging nor dropping it',
    async (_label, kase, message) => {
      const { execution, job } = await run({ case: kase });
      expect(await job?.getState()).toBe('failed');
      expect(execution.status).toBe('FAILED');
      expect(execution.error).toBe('Bridge.OutputNotSerializable');
      expect(execution.cause).toMatch(message);
      expect(workerErrors.some((e) => message.test(e.message))).toBe(true);
    },
  );

  it('truncates a 1 MB error message to a cause of at most 32,768 characters, with a marker', async () => {
    const { execution } = await run({ case: 'huge-message' });
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('PaymentDeclined');
    expect(execution.cause!.length).toBeLessThanOrEqual(32_768);
    expect(execution.cause!.length).toBeGreaterThan(32_000);
    expect(execution.cause!.startsWith('mmmm')).toBe(true);
    expect(execution.cause).toMatch(TRUNCATION_MARKER);
  });

  it('truncates an unexpectedly huge error name to 256 characters, with a marker', async () => {
    const { execution } = await run({ case: 'huge-name' });
    expect(execution.status).toBe('FAILED');
    expect(execution.error!.length).toBeLessThanOrEqual(256);
    expect(execution.error!.startsWith('UnexpectedXXXX')).toBe(true);
    expect(execution.error).toMatch(TRUNCATION_MARKER);
    expect(execution.cause).toBe('name too long');
  });

  it('relayed each task exactly once', () => {
    const c = sfnLocal.counters();
    expect(duplicateRelays(c)).toBe(0);
    expect((c.calls.SendTaskSuccess ?? 0) + (c.calls.SendTaskFailure ?? 0)).toBe(c.tasksClosed);
  });
});
