import {
  ActivityDoesNotExist,
  ActivityWorkerLimitExceeded,
  InvalidArn,
  InvalidOutput,
  InvalidToken,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { classifySfnError, SfnErrorKind, sfnErrorName } from './sfn-error-kind';

const meta = { $metadata: {} };

describe('classifySfnError', () => {
  it.each([
    [new TaskTimedOut({ message: 'x', ...meta }), SfnErrorKind.TaskGone],
    [new TaskDoesNotExist({ message: 'x', ...meta }), SfnErrorKind.TaskGone],
    [new InvalidToken({ message: 'x', ...meta }), SfnErrorKind.TaskGone],
    [new ActivityDoesNotExist({ message: 'x', ...meta }), SfnErrorKind.BindingBroken],
    [new InvalidArn({ message: 'x', ...meta }), SfnErrorKind.BindingBroken],
    [new ActivityWorkerLimitExceeded({ message: 'x', ...meta }), SfnErrorKind.WorkerLimit],
    [new InvalidOutput({ message: 'x', ...meta }), SfnErrorKind.InvalidOutput],
  ])('maps the SDK exception %p to its kind', (err, kind) => {
    expect(classifySfnError(err)).toBe(kind);
  });

  it('treats throttling by name or HTTP 429 as throttled', () => {
    expect(classifySfnError(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }))).toBe(SfnErrorKind.Throttled);
    expect(classifySfnError({ name: 'Whatever', $metadata: { httpStatusCode: 429 } })).toBe(SfnErrorKind.Throttled);
  });

  it('treats 5xx, request timeouts and socket errors as transient', () => {
    expect(classifySfnError({ name: 'InternalFailure', $metadata: { httpStatusCode: 500 } })).toBe(SfnErrorKind.Transient);
    expect(classifySfnError({ name: 'ServiceUnavailable', $fault: 'server' })).toBe(SfnErrorKind.Transient);
    expect(classifySfnError(Object.assign(new Error('timed out'), { name: 'TimeoutError' }))).toBe(SfnErrorKind.Transient);
    expect(classifySfnError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(SfnErrorKind.Transient);
  });

  it('leaves unknown client errors as other', () => {
    expect(classifySfnError({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } })).toBe(SfnErrorKind.Other);
    expect(classifySfnError(undefined)).toBe(SfnErrorKind.Other);
  });
});

describe('sfnErrorName', () => {
  it('prefers the exception name, then the network code, and keeps labels bounded', () => {
    expect(sfnErrorName(new TaskTimedOut({ message: 'x', ...meta }))).toBe('TaskTimedOut');
    expect(sfnErrorName(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe('ECONNRESET');
    expect(sfnErrorName({ name: 'Weird name {with} spaces'.repeat(10) })).toMatch(/^[A-Za-z0-9_.-]{1,64}$/);
  });
});
