import { sleep } from '@bridge/common';

/**
 * Re-checks `probe` until it returns a truthy value, failing with `message` after `timeoutMs`.
 * For state that lives in another system (Step Functions executions, Redis) and has no event.
 */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  { timeoutMs = 20_000, intervalMs = 50, message = 'condition' }: { timeoutMs?: number; intervalMs?: number; message?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await probe();
    if (last) return last as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${message}`);
    await sleep(intervalMs);
  }
}

/** Rejects with `Timed out after <ms> ms: <message>` if `promise` has not settled in time (@bridge/common's withTimeout). */
export { withTimeout as within } from '@bridge/common';
