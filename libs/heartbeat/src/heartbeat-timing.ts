/**
 * When heartbeats go out, in one place: the loop's tick, how early a heartbeat falls due, and how
 * long a claim holds a token for its claimer. Together they keep every token's silence within its
 * interval plus the claim lease, even when the replica that claimed it dies right after the claim:
 *
 *   last heartbeat at h -> due at h + interval - lead -> claimed by the next tick (+ tick)
 *   -> the claimer dies -> claimable again after the hold (lease - tick - margin)
 *   -> another replica claims it on its next tick (+ tick) and sends it (the margins cover the call)
 *   => heard by h + interval + lease - 2 x margin + the call's time.
 *
 * A claim that hangs (Redis going away) hands every token to memory after CLAIM_STUCK_MS; memory
 * heartbeats them on the same due times. A heartbeat refused twice is due again at once (the next tick of any replica), so a few refusals
 * in a row fit in the same bound. A replica ticks every TICK_MS while the shared schedule holds any
 * token (claims of nothing due cost Redis one ZRANGE), and every IDLE_TICK_MS (at most half the
 * shortest interval) while it is empty.
 */

/** Tick of a replica while any token is scheduled (here or elsewhere) or held in memory. */
export const TICK_MS = 100;
/** Tick of a replica while the shared schedule is empty and memory holds nothing pending. */
export const IDLE_TICK_MS = 1_000;
/** Room for one SendTaskHeartbeat call, taken off both ends of the bound. */
export const CALL_MARGIN_MS = 50;
/**
 * A claim unanswered this long means the shared schedule is not answering (Redis shutting down, a
 * shard failing over; a claim takes ~1 ms): the loop stops waiting for it and heartbeats from
 * memory. Due at interval - lead, claimed within a tick, memory takes over a tick after this:
 * within the bound while lead + lease - 2 ticks - margin (400 ms at a 1 s interval) exceeds it.
 */
export const CLAIM_STUCK_MS = 300;
/** The claim lease's cap: a dead claimer's tokens wait at most this long (and half an interval). */
export const CLAIM_LEASE_MS = 5_000;

/** How long before its interval ends a heartbeat is due (claimed on a tick, sent within one). */
export function leadMs(intervalMs: number): number {
  return Math.min(TICK_MS + CALL_MARGIN_MS, intervalMs / 4);
}

/** The claim lease: half the shortest binding interval, at most CLAIM_LEASE_MS. */
export function claimLeaseMs(intervalsMs: number[]): number {
  return Math.min(CLAIM_LEASE_MS, ...intervalsMs.map((ms) => ms / 2));
}

/**
 * How far a claim pushes a token's entry: the lease less one tick (another replica's) and the
 * call margin, so the token is heartbeated by another replica within the lease if its claimer dies.
 */
export function claimHoldMs(leaseMs: number): number {
  return Math.max(TICK_MS, leaseMs - TICK_MS - CALL_MARGIN_MS);
}

/** The idle tick: IDLE_TICK_MS, at most half the shortest interval, at least TICK_MS. */
export function idleTickMs(intervalsMs: number[]): number {
  return Math.max(TICK_MS, Math.min(IDLE_TICK_MS, ...intervalsMs.map((ms) => ms / 2)));
}
