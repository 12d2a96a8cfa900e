/**
 * Exponential backoff with full jitter, for retries that span several calls (the poller's failed
 * polls, the producer's enqueue retries). Lives here, not in libs/sfn, because it is about time,
 * not about Step Functions.
 */
export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

/**
 * "Full jitter" exponential backoff: a uniform delay in [0, min(cap, base * 2^attempt)).
 * (The AWS SDK's own retry strategy does the same, but only inside one call; the poller and the
 * enqueue retry need it across calls.)
 */
export function fullJitterDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}
