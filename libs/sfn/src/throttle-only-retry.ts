import type { RetryErrorInfo, RetryStrategyV2, RetryToken } from '@smithy/types';
import { fullJitterDelay } from '@bridge/common';

/**
 * The callback client's SDK retry strategy: retry only answers that prove the call was not
 * applied (throttling). A timed-out, dropped or 5xx SendTaskSuccess may still have landed; an SDK
 * retry of it would be a second result, so those go back to the caller (the relay probes before
 * it sends again). Hand-written because the SDK's strategies retry every transient error.
 */
export function throttleOnlyRetry(maxAttempts: number): RetryStrategyV2 {
  const token = (count: number, delayMs: number): RetryToken => ({ getRetryCount: () => count, getRetryDelay: () => delayMs });
  return {
    acquireInitialRetryToken: async () => token(0, 0),
    refreshRetryTokenForRetry: async (previous: RetryToken, info: RetryErrorInfo) => {
      const next = previous.getRetryCount() + 1;
      if (info.errorType !== 'THROTTLING' || next >= maxAttempts) throw new Error('not retried');
      return token(next, fullJitterDelay(next, { baseMs: 100, capMs: 1_000 }));
    },
    recordSuccess: () => undefined,
  };
}
