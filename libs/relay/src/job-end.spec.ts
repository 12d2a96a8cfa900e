/**
 * What the relay sends for a job end (resolveOutcome) and the arithmetic of one relay attempt
 * (relay-attempt.ts), without Redis: the job's fields are built from a job hash the way the claim
 * script returns them (JOB_FIELDS[kind], in order), so a change of that order that resolveOutcome
 * does not follow fails here. That includes a job end an earlier claim kept in the task record,
 * resolved from the fields a later `found` or `removed` claim asked for.
 */
import { SfnErrorKind } from '@bridge/sfn';
import { JOB_FIELDS, JobEnd, JobEndKind, joinEnd, resolveOutcome } from './job-end';
import {
  AMBIGUOUS_SETTLE_MS,
  earlierAttemptMayHaveSent,
  mayHaveLanded,
  RELAY_LEASE_MS,
  relayBackoffMs,
  SEND_DEADLINE_MS,
  SEND_LEASE_MARGIN_MS,
} from './relay-attempt';

const QUEUE = 'orders';
const TIMES = { timestamp: '1000', processedOn: '1500', finishedOn: '4000' };
const NODE_TRACE = 'RangeError: index out of range\n    at work (/app/worker.js:3:9)';

/** The job's fields as the claim returns them for `kind`: JOB_FIELDS[kind] of `hash`, undefined where absent. */
function fieldsOf(kind: JobEndKind, hash: Record<string, string>): (string | undefined)[] {
  return JOB_FIELDS[kind].map((name) => hash[name]);
}

function end(kind: JobEndKind, extra: Partial<JobEnd> = {}): JobEnd {
  return { queue: QUEUE, jobId: 'job-1', kind, ...extra };
}

describe('resolveOutcome', () => {
  it('sends the return value of a completed job as its JSON, with the job timings', () => {
    const resolved = resolveOutcome(end('completed', { returnvalue: '{"total":42,"items":["a"]}' }), fieldsOf('completed', TIMES));
    expect(resolved).toEqual({
      outcome: { kind: 'success', output: '{"total":42,"items":["a"]}' },
      job: { timestamp: 1000, processedOn: 1500, finishedOn: 4000 },
    });
  });

  it.each([
    ['no return value', undefined],
    ['an empty one', ''],
    ['null', 'null'],
  ])('sends null for a completed job with %s', (_, returnvalue) => {
    expect(resolveOutcome(end('completed', { returnvalue }), fieldsOf('completed', TIMES)).outcome).toEqual({
      kind: 'success',
      output: 'null',
    });
  });

  it('fails a completed job whose stored return value is not JSON with Bridge.OutputNotSerializable', () => {
    const { outcome } = resolveOutcome(end('completed', { returnvalue: '{not json' }), fieldsOf('completed', TIMES));
    expect(outcome).toMatchObject({ kind: 'failure', error: 'Bridge.OutputNotSerializable' });
    expect(outcome.kind === 'failure' && outcome.cause).toMatch(/not JSON/);
  });

  it("fails a failed job with the error name from its last stack trace and the event's reason", () => {
    const hash = {
      ...TIMES,
      stacktrace: JSON.stringify(['TypeError: first try\n    at a (x.js:1:1)', NODE_TRACE]),
      failedReason: 'stored',
    };
    const resolved = resolveOutcome(end('failed', { failedReason: 'index out of range' }), fieldsOf('failed', hash));
    expect(resolved).toEqual({
      outcome: { kind: 'failure', error: 'RangeError', cause: 'index out of range' },
      job: { timestamp: 1000, processedOn: 1500, finishedOn: 4000 },
    });
  });

  it('reads the reason from the job when the event has none', () => {
    const hash = { ...TIMES, stacktrace: JSON.stringify([NODE_TRACE]), failedReason: 'stored reason' };
    expect(resolveOutcome(end('failed'), fieldsOf('failed', hash)).outcome).toEqual({
      kind: 'failure',
      error: 'RangeError',
      cause: 'stored reason',
    });
  });

  it.each([
    ['unreadable', '[not json'],
    ['not an array', '{"a":1}'],
    ['absent', undefined],
  ])('names the error Error when the stack traces are %s', (_, stacktrace) => {
    const hash: Record<string, string> = { ...TIMES, ...(stacktrace === undefined ? {} : { stacktrace }) };
    expect(resolveOutcome(end('failed', { failedReason: 'boom' }), fieldsOf('failed', hash)).outcome).toEqual({
      kind: 'failure',
      error: 'Error',
      cause: 'boom',
    });
  });

  it('fails a job removed before it finished with Bridge.JobMissing naming its queue, and no timings', () => {
    const resolved = resolveOutcome(end('removed'), fieldsOf('removed', TIMES));
    expect(resolved.job).toBeUndefined();
    expect(resolved.outcome).toMatchObject({ kind: 'failure', error: 'Bridge.JobMissing' });
    expect(resolved.outcome.kind === 'failure' && resolved.outcome.cause).toContain(`"${QUEUE}"`);
  });

  describe('a job found finished by a heartbeat', () => {
    it('is a success when it has a return value, even one that failed before it succeeded', () => {
      const hash = { ...TIMES, stacktrace: JSON.stringify([NODE_TRACE]), failedReason: 'index out of range', returnvalue: '{"ok":true}' };
      expect(resolveOutcome(end('found'), fieldsOf('found', hash))).toEqual({
        outcome: { kind: 'success', output: '{"ok":true}' },
        job: { timestamp: 1000, processedOn: 1500, finishedOn: 4000 },
      });
    });

    it('is a failure, named from its stack trace, when it has only a failed reason', () => {
      const hash = { ...TIMES, stacktrace: JSON.stringify([NODE_TRACE]), failedReason: 'index out of range' };
      expect(resolveOutcome(end('found'), fieldsOf('found', hash)).outcome).toEqual({
        kind: 'failure',
        error: 'RangeError',
        cause: 'index out of range',
      });
    });

    it('is a success with null when it has neither', () => {
      expect(resolveOutcome(end('found'), fieldsOf('found', TIMES)).outcome).toEqual({ kind: 'success', output: 'null' });
    });

    it('fails with Bridge.OutputNotSerializable when its stored value is not JSON', () => {
      const hash = { ...TIMES, returnvalue: 'undefined' };
      expect(resolveOutcome(end('found'), fieldsOf('found', hash)).outcome).toMatchObject({
        kind: 'failure',
        error: 'Bridge.OutputNotSerializable',
      });
    });

    it('fails with Bridge.JobMissing when the job is gone by the claim', () => {
      const resolved = resolveOutcome(end('found'), fieldsOf('found', {}));
      expect(resolved).toMatchObject({ outcome: { kind: 'failure', error: 'Bridge.JobMissing' } });
      expect(resolved.job).toBeUndefined();
    });
  });

  it('leaves timings the job lacks undefined (a job never processed)', () => {
    expect(resolveOutcome(end('completed'), fieldsOf('completed', { timestamp: '1000' })).job).toEqual({
      timestamp: 1000,
      processedOn: undefined,
      finishedOn: undefined,
    });
  });

  describe('a job end an earlier claim kept, resolved from the fields a later claim asked for', () => {
    it('reads the fields of a completed or failed end where a found claim returns them (same order, a prefix)', () => {
      for (const kind of ['completed', 'failed'] as const)
        expect(JOB_FIELDS.found.slice(0, JOB_FIELDS[kind].length)).toEqual(JOB_FIELDS[kind]);
      const hash = { ...TIMES, stacktrace: JSON.stringify([NODE_TRACE]), failedReason: 'stored' };
      expect(resolveOutcome(end('failed', { failedReason: 'kept reason' }), fieldsOf('found', hash))).toEqual({
        outcome: { kind: 'failure', error: 'RangeError', cause: 'kept reason' },
        job: { timestamp: 1000, processedOn: 1500, finishedOn: 4000 },
      });
    });

    it.each(['found', 'removed'] as const)('sends a kept return value when the %s claim finds the job gone, without timings', (later) => {
      expect(resolveOutcome(end('completed', { returnvalue: '{"kept":1}' }), fieldsOf(later, {}))).toEqual({
        outcome: { kind: 'success', output: '{"kept":1}' },
        job: undefined,
      });
    });

    it.each(['found', 'removed'] as const)('sends a kept failure named Error when the %s claim finds the job gone', (later) => {
      expect(resolveOutcome(end('failed', { failedReason: 'kept reason' }), fieldsOf(later, {}))).toEqual({
        outcome: { kind: 'failure', error: 'Error', cause: 'kept reason' },
        job: undefined,
      });
    });
  });

  it('never reads the job input (`data`) with a claim', () => {
    const asked = Object.entries(JOB_FIELDS).filter(([, fields]) => fields.includes('data'));
    expect(asked).toEqual([]);
  });
});

describe('relay attempt', () => {
  it('fits a send, its settle time and the margin inside one lease', () => {
    expect(SEND_DEADLINE_MS).toBeGreaterThan(0);
    expect(SEND_DEADLINE_MS + AMBIGUOUS_SETTLE_MS + SEND_LEASE_MARGIN_MS).toBeLessThanOrEqual(RELAY_LEASE_MS);
  });

  it('probes before sending only when an earlier claim may have sent', () => {
    expect([1, 2, 5].map(earlierAttemptMayHaveSent)).toEqual([false, true, true]);
  });

  it('waits for a send to settle only after errors that may still have been applied', () => {
    const landed = Object.values(SfnErrorKind).filter(mayHaveLanded).sort();
    expect(landed).toEqual([SfnErrorKind.Other, SfnErrorKind.Transient].sort());
  });

  it('backs off exponentially from the base, the first retry after the base', () => {
    expect([0, 1, 2, 3, 4].map((attempt) => relayBackoffMs(attempt, 250))).toEqual([250, 250, 500, 1000, 2000]);
    expect(relayBackoffMs(2, 0.6)).toBe(1);
  });
});

describe('joinEnd', () => {
  const end = (kind: JobEnd['kind'], extra: Partial<JobEnd> = {}): JobEnd => ({ queue: 'q', jobId: 'j', kind, ...extra });

  it.each([
    ['found', 'completed', end('completed', { returnvalue: '{"v":1}' })],
    ['removed', 'failed', end('failed', { failedReason: 'boom' })],
  ] as const)("takes a %s relay over to the job's own %s event", (first, _next, next) => {
    const relaying = end(first);
    joinEnd(relaying, next);
    expect(relaying).toEqual(next);
  });

  it.each([
    ['completed', end('found')],
    ['completed', end('failed', { failedReason: 'later' })],
    ['found', end('removed')],
  ] as const)('keeps a %s relay as it is when %o joins it', (first, next) => {
    const relaying = end(first, first === 'completed' ? { returnvalue: '{"v":1}' } : {});
    const before = { ...relaying };
    joinEnd(relaying, next);
    expect(relaying).toEqual(before);
  });
});
