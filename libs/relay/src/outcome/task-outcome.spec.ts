import { SFN_LIMITS } from './limits';
import { bridgeFailure } from './task-outcome';

describe('bridgeFailure', () => {
  it('prefixes the code with Bridge. and keeps a short cause as is', () => {
    expect(bridgeFailure('JobMissing', 'job 42 was removed')).toEqual({
      kind: 'failure',
      error: 'Bridge.JobMissing',
      cause: 'job 42 was removed',
    });
  });

  it('truncates a long cause to the Step Functions limit with a marker', () => {
    const outcome = bridgeFailure('EnqueueFailed', 'x'.repeat(100_000));
    if (outcome.kind !== 'failure') throw new Error('expected a failure');
    expect(outcome.cause.length).toBeLessThanOrEqual(SFN_LIMITS.causeChars);
    expect(outcome.cause).toMatch(/…\[truncated \d+ chars\]$/);
  });
});
