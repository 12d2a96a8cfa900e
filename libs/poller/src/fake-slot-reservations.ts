import type { SlotReservations } from './slot-reservations.service';

/**
 * In-memory stand-in for SlotReservations with the Lua scripts' rules (unit tests of the gate and
 * the poller; the scripts themselves are tested on a real Redis in reservation.lua.spec.ts).
 */
export class FakeSlotReservations {
  readonly outstanding = new Set<string>();
  slots = 0;
  calls = { reserve: 0, taken: 0, release: 0 };
  /** Highest outstanding + slots ever seen. */
  peak = 0;

  constructor(private readonly pollCap = 1_000) {}

  async reserve(_binding: string, want: number, maxPending: number): Promise<{ granted: number; outstanding: number }> {
    this.calls.reserve++;
    const room = Math.max(0, Math.min(maxPending - this.outstanding.size - this.slots, this.pollCap - this.slots, want));
    this.slots += room;
    this.track();
    return { granted: room, outstanding: this.outstanding.size };
  }

  async taken(_binding: string, jobId: string, _at: number, maxPending: number): Promise<{ kept: boolean; outstanding: number }> {
    this.calls.taken++;
    this.outstanding.add(jobId);
    const kept = this.outstanding.size + this.slots <= maxPending;
    if (!kept) this.slots--;
    this.track();
    return { kept, outstanding: this.outstanding.size };
  }

  async release(_binding: string, n: number): Promise<number> {
    this.calls.release++;
    this.slots -= n;
    return n;
  }

  async closeUnwritten(_binding: string, jobId: string): Promise<void> {
    this.outstanding.delete(jobId);
  }

  /** A task closed (relayed): what the heartbeat schedule's remove does. */
  close(jobId: string): void {
    this.outstanding.delete(jobId);
  }

  async renew(): Promise<{ purged: number; reasserted: boolean }> {
    return { purged: 0, reasserted: false };
  }

  async leave(): Promise<void> {
    this.slots = 0;
  }

  asService(): SlotReservations {
    return this as unknown as SlotReservations;
  }

  private track(): void {
    this.peak = Math.max(this.peak, this.outstanding.size + this.slots);
  }
}
