import { CALL_MARGIN_MS, CLAIM_STUCK_MS, claimHoldMs, claimLeaseMs, idleTickMs, leadMs, TICK_MS } from './heartbeat-timing';

describe('heartbeat timing', () => {
  const intervals = [1_000, 2_000, 20_000, 60_000, 3_600_000];

  it.each(intervals)('hears a token whose claimer died right after claiming it within interval + lease (interval %i ms)', (intervalMs) => {
    const lease = claimLeaseMs([intervalMs]);
    // Last heartbeat at 0; due at interval - lead; claimed by the next tick; the claimer dies;
    // claimable again after the hold; claimed by another replica's next tick; the call takes its margin.
    const heardBy = intervalMs - leadMs(intervalMs) + TICK_MS + claimHoldMs(lease) + TICK_MS + CALL_MARGIN_MS;
    expect({ heardBy, bound: intervalMs + lease, within: heardBy <= intervalMs + lease }).toEqual({
      heardBy,
      bound: intervalMs + lease,
      within: true,
    });
  });

  it.each(intervals)(
    'hears a token from memory within interval + lease when its claim hangs (Redis going away; interval %i ms)',
    (intervalMs) => {
      // Due at interval - lead, claimed on the next tick; the claim hangs; the loop ticks again after
      // CLAIM_STUCK_MS and a tick, and sends the due token from memory.
      const heardBy = intervalMs - leadMs(intervalMs) + TICK_MS + CLAIM_STUCK_MS + TICK_MS + CALL_MARGIN_MS;
      const bound = intervalMs + claimLeaseMs([intervalMs]);
      expect({ heardBy, bound, within: heardBy <= bound }).toEqual({ heardBy, bound, within: true });
    },
  );

  it.each(intervals)(
    'sends at most ~1.2 heartbeats per interval and lets an idle replica see new tokens before they fall due (interval %i ms)',
    (intervalMs) => {
      const period = intervalMs - leadMs(intervalMs);
      expect({ perInterval: intervalMs / period <= 1.2, idleSeesInTime: idleTickMs([intervalMs]) < period }).toEqual({
        perInterval: true,
        idleSeesInTime: true,
      });
    },
  );

  it('caps the lease at 5 s and at half the shortest interval', () => {
    expect([claimLeaseMs([1_000, 60_000]), claimLeaseMs([60_000, 120_000])]).toEqual([500, 5_000]);
  });
});
