/** Thresholds of the health checks (not configurable: they encode Step Functions and Node facts). */

/** Liveness fails when the event loop's p99 delay over the last window exceeds this. */
export const EVENT_LOOP_MAX_DELAY_MS = 1_000;
/** Length of one event-loop delay window. */
export const EVENT_LOOP_WINDOW_MS = 10_000;
/** Redis must answer PING on the shared connection within this. */
export const REDIS_PING_TIMEOUT_MS = 1_000;
/**
 * Step Functions counts as unreachable when, for every binding, at least `SFN_MIN_NO_ANSWERS` polls
 * in a row got no answer at all (network error, timeout) over at least `SFN_NO_ANSWER_MS`. A single
 * dropped connection never flips readiness; a parked poll (up to 60 s) is not a failure.
 */
export const SFN_NO_ANSWER_MS = 15_000;
export const SFN_MIN_NO_ANSWERS = 2;
