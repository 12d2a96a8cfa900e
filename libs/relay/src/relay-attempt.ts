import { SfnErrorKind } from '@bridge/sfn';
import type { Job } from 'bullmq';

/** Lock of a relay job; a replica that dies mid-relay has its jobs taken over after it lapses. */
export const RELAY_LOCK_MS = 10_000;
/**
 * An attempt that has run this long may have outlived its lock (a stalled event loop, a paused
 * process): it checks it still holds the lock before sending. Normal relays take milliseconds and
 * never check, so the check costs nothing on the normal path.
 */
export const RECHECK_LOCK_AFTER_MS = RELAY_LOCK_MS / 2;
/**
 * After a send whose answer was lost (timeout, reset, 5xx) the request may still be applied by
 * Step Functions a moment later. The attempt waits this long before it gives the job back for a
 * retry, so the retry's probe sees what that request did instead of racing it.
 */
export const AMBIGUOUS_SETTLE_MS = 3_000;
/**
 * A send is aborted if it has not finished this long before the job's lock could lapse, so a
 * starved process never transmits a result after another replica may have taken the job over.
 */
export const SEND_LOCK_MARGIN_MS = 1_000;

/**
 * Whether an earlier attempt of this relay job may already have sent the result: it started
 * before (BullMQ counts every start in `attemptsStarted`, including restarts after a stall) or it
 * stalled (its replica died or froze holding it). Read from the job as fetched, no Redis call.
 */
export function earlierAttemptMayHaveSent(job: Pick<Job, 'attemptsStarted' | 'stalledCounter'>): boolean {
  return job.attemptsStarted > 1 || job.stalledCounter > 0;
}

/** A failed send that may nevertheless have been applied (anything but a definite refusal). */
export function mayHaveLanded(kind: SfnErrorKind): boolean {
  return kind === SfnErrorKind.Transient || kind === SfnErrorKind.Other;
}

/** The attempt no longer holds the relay job's lock: another replica owns the job now. */
export class RelayLockLostError extends Error {
  override readonly name = 'RelayLockLostError';
}
