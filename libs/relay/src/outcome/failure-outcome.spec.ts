import { failureOutcome } from './failure-outcome';
import { SFN_LIMITS } from './limits';
import {
  BARE_NAME_TRACEBACK,
  CHAINED_FAILED_REASON,
  CHAINED_TRACEBACK,
  MULTILINE_FAILED_REASON,
  MULTILINE_MESSAGE_TRACEBACK,
} from './python-tracebacks.fixture';

class PaymentDeclined extends Error {
  override name = 'PaymentDeclined';
}

/** What BullMQ stores after a processor throws `err`: `[failedReason, stacktrace]`. */
function storedBy(make: () => Error, previousTraces: string[] = []): [string | undefined, string[]] {
  try {
    throw make();
  } catch (caught) {
    const err = caught as Error;
    return [err.message, err.stack ? [...previousTraces, err.stack] : previousTraces];
  }
}

const MARKER = /…\[truncated \d+ chars\]$/;

describe('failureOutcome', () => {
  it('maps a thrown Node subclass to its name and message', () => {
    const [reason, traces] = storedBy(() => new PaymentDeclined('card expired'));
    expect(failureOutcome(reason, traces)).toEqual({
      kind: 'failure',
      error: 'PaymentDeclined',
      cause: 'card expired',
    });
  });

  it('maps a Python traceback to the last exception name and decodes the JSON-encoded reason', () => {
    expect(failureOutcome(CHAINED_FAILED_REASON, [CHAINED_TRACEBACK])).toEqual({
      kind: 'failure',
      error: 'PaymentDeclined',
      cause: 'card expired',
    });
  });

  it('decodes a multi-line Python reason to the plain message', () => {
    expect(failureOutcome(MULTILINE_FAILED_REASON, [MULTILINE_MESSAGE_TRACEBACK])).toEqual({
      kind: 'failure',
      error: 'ValueError',
      cause: "bad input:\n  field 'amount': must be > 0\nsee docs",
    });
  });

  it('maps a Python exception with an empty message to an empty cause', () => {
    expect(failureOutcome('""', [BARE_NAME_TRACEBACK])).toEqual({
      kind: 'failure',
      error: 'KeyboardInterrupt',
      cause: '',
    });
  });

  it('keeps a Python reason that is not a JSON string as it is', () => {
    expect(failureOutcome('card expired', [CHAINED_TRACEBACK])).toMatchObject({ cause: 'card expired' });
  });

  it('does not decode a quoted reason from a Node job', () => {
    const [reason, traces] = storedBy(() => new PaymentDeclined('"quoted"'));
    expect(failureOutcome(reason, traces)).toMatchObject({ error: 'PaymentDeclined', cause: '"quoted"' });
  });

  it('takes a JSON object reason as given, over the stack name', () => {
    const [reason, traces] = storedBy(() => new Error('{"error":"Custom.Err","cause":"why"}'));
    expect(failureOutcome(reason, traces)).toEqual({ kind: 'failure', error: 'Custom.Err', cause: 'why' });
  });

  it('takes a JSON object from a Python job after decoding the reason', () => {
    const reason = JSON.stringify('{"error": "Quota.Exceeded", "cause": "100/100 used"}');
    expect(failureOutcome(reason, [CHAINED_TRACEBACK])).toEqual({
      kind: 'failure',
      error: 'Quota.Exceeded',
      cause: '100/100 used',
    });
  });

  it('accepts a JSON object without cause, giving an empty cause', () => {
    expect(failureOutcome('{"error":"Custom.Err"}', [])).toEqual({ kind: 'failure', error: 'Custom.Err', cause: '' });
  });

  it('ignores JSON objects that are not exactly {error, cause} strings', () => {
    const [, traces] = storedBy(() => new PaymentDeclined('x'));
    for (const reason of [
      '{"error":"not_found","message":"no such card"}',
      '{"error":42,"cause":"why"}',
      '{"error":"E","cause":{"nested":true}}',
      '{"error":""}',
      '["error","cause"]',
    ]) {
      expect(failureOutcome(reason, traces)).toEqual({ kind: 'failure', error: 'PaymentDeclined', cause: reason });
    }
  });

  it('uses the last stack trace entry, which is the last attempt', () => {
    const [, first] = storedBy(() => new TypeError('attempt 1'));
    const [reason, traces] = storedBy(() => new PaymentDeclined('attempt 2'), first);
    expect(traces).toHaveLength(2);
    expect(failureOutcome(reason, traces)).toMatchObject({ error: 'PaymentDeclined', cause: 'attempt 2' });
  });

  it('defaults to Error with the reason when there is no stack trace', () => {
    expect(failureOutcome('boom', undefined)).toEqual({ kind: 'failure', error: 'Error', cause: 'boom' });
    expect(failureOutcome('boom', [])).toEqual({ kind: 'failure', error: 'Error', cause: 'boom' });
    expect(failureOutcome('job stalled more than allowable limit', null)).toMatchObject({ error: 'Error' });
  });

  it('defaults to Error with an empty cause when nothing is known (a thrown non-Error)', () => {
    expect(failureOutcome(undefined, undefined)).toEqual({ kind: 'failure', error: 'Error', cause: '' });
    expect(failureOutcome(null, null)).toEqual({ kind: 'failure', error: 'Error', cause: '' });
    expect(failureOutcome(undefined, ['', '   '])).toEqual({ kind: 'failure', error: 'Error', cause: '' });
  });

  it('falls back to Error when the stack name is not an identifier', () => {
    const [reason, traces] = storedBy(() => Object.assign(new Error('x'), { name: 'Payment declined' }));
    expect(failureOutcome(reason, traces)).toMatchObject({ error: 'Error', cause: 'x' });
  });

  it('truncates a 1 MB message to the cause limit with a marker', () => {
    const message = 'é'.repeat(1_048_576);
    const [reason, traces] = storedBy(() => new PaymentDeclined(message));
    const outcome = failureOutcome(reason, traces);
    if (outcome.kind !== 'failure') throw new Error('expected a failure');
    expect(outcome.error).toBe('PaymentDeclined');
    expect(outcome.cause.length).toBeLessThanOrEqual(SFN_LIMITS.causeChars);
    expect(outcome.cause.length).toBeGreaterThan(SFN_LIMITS.causeChars - 40);
    expect(outcome.cause).toMatch(MARKER);
    expect(outcome.cause.startsWith('éééé')).toBe(true);
  });

  it('truncates a 300-char error name to 256 chars with a marker', () => {
    const name = `E${'rror'.repeat(75)}`.slice(0, 300);
    const [reason, traces] = storedBy(() => Object.assign(new Error('x'), { name }));
    const outcome = failureOutcome(reason, traces);
    if (outcome.kind !== 'failure') throw new Error('expected a failure');
    expect(outcome.error).toHaveLength(256);
    expect(outcome.error).toMatch(MARKER);
    expect(name.startsWith(outcome.error.replace(MARKER, ''))).toBe(true);
  });

  it('truncates an over-long error given in a JSON object', () => {
    const outcome = failureOutcome(JSON.stringify({ error: 'X'.repeat(1_000), cause: 'c' }), []);
    expect(outcome).toMatchObject({ cause: 'c' });
    if (outcome.kind !== 'failure') throw new Error('expected a failure');
    expect(outcome.error.length).toBeLessThanOrEqual(SFN_LIMITS.errorChars);
  });
});

describe('failureOutcome for a return value BullMQ could not store', () => {
  const bigintTrace = [
    'TypeError: Do not know how to serialize a BigInt',
    '    at JSON.stringify (<anonymous>)',
    '    at tryCatch (/app/node_modules/bullmq/dist/cjs/utils/index.js:30:19)',
    '    at /app/node_modules/bullmq/dist/cjs/classes/job.js:424:65',
    '    at async Worker.handleCompleted (/app/node_modules/bullmq/dist/cjs/classes/worker.js:631:31)',
  ].join('\n');

  it('reports Bridge.OutputNotSerializable with the JSON error as the reason', () => {
    const outcome = failureOutcome('Do not know how to serialize a BigInt', [bigintTrace]);
    expect(outcome).toEqual({
      kind: 'failure',
      error: 'Bridge.OutputNotSerializable',
      cause: expect.stringContaining('Do not know how to serialize a BigInt'),
    });
  });

  it('keeps a TypeError thrown by the processor itself as TypeError', () => {
    const thrown = 'TypeError: amountCents must be a number\n    at chargeCard (/app/worker.js:12:11)';
    expect(failureOutcome('amountCents must be a number', [thrown])).toMatchObject({ error: 'TypeError' });
  });
});
