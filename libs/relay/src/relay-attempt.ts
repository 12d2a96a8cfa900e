import { CALLBACK_REQUEST_TIMEOUT_MS, SfnErrorKind } from '@bridge/sfn';
/**
 * After a send whose answer was lost (timeout, reset, 5xx) the request may still be applied by
 * Step Functions a moment later. The attempt waits this long, still holding its lease, before it
 * gives the task up for a retry, so the retry's probe sees what that request did instead of racing it.
 */
export const AMBIGUOUS_SETTLE_MS = 3_000;
/** Slack between the send's deadline plus the settle time and the lease's end (clocks, a slow claim reply). */
export const SEND_LEASE_MARGIN_MS = 1_000;
/**
 * A send must be over this long after the claim was issued: the callback client's own request
 * timeout, so a request is never given up on sooner than it would be anyway (a request Step
 * Functions applies late, say 11 s after it was sent, is still one this relay waited for).
 */
export const SEND_DEADLINE_MS = CALLBACK_REQUEST_TIMEOUT_MS;
/**
 * How long a relay claim holds a task (Redis time): the send, then the settle time, with a margin.
 * So no probe of another replica (or of this one's retry) comes before a lost request had its
 * settle time; a replica that dies mid-relay has its tasks taken over by another after it lapses
 * (the event stream's pending entries are re-claimed then, within RELAY_LEASE_MS + 5 s).
 */
export const RELAY_LEASE_MS = SEND_DEADLINE_MS + AMBIGUOUS_SETTLE_MS + SEND_LEASE_MARGIN_MS;

/**
 * Whether an earlier claim of this task may already have sent the result: the claim script counts
 * every claim (a retry, a replica that died or froze holding it, another that took it over).
 */
export function earlierAttemptMayHaveSent(claims: number): boolean {
  return claims > 1;
}

/** A failed send that may nevertheless have been applied (anything but a definite refusal). */
export function mayHaveLanded(kind: SfnErrorKind): boolean {
  return kind === SfnErrorKind.Transient || kind === SfnErrorKind.Other;
}

/** Delay before relay attempt `attempt` + 1 (exponential from `baseMs`, as BullMQ's exponential backoff). */
export function relayBackoffMs(attempt: number, baseMs: number): number {
  return Math.round(2 ** Math.max(0, attempt - 1) * baseMs);
}
