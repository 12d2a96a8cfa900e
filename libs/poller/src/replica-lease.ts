import { Logger } from '@nestjs/common';
import { BindingState } from './binding-state';
import { LEASE_RENEW_MS, SlotReservations } from './slot-reservations.service';

/** Every this many renewals (30 s), the outstanding sets are swept of tasks closed without naming their binding. */
const SWEEP_EVERY = 15;

/**
 * Keeps this replica's poll slots alive in Redis: a lease renewed every LEASE_RENEW_MS (one script
 * call, the replica's only Redis traffic while its bindings idle). A replica that dies stops
 * renewing and the next renewal of any live replica purges its slots, so they come back within
 * LEASE_MS + LEASE_RENEW_MS. On shutdown the replica leaves at once.
 */
export class ReplicaLease {
  private readonly logger = new Logger(ReplicaLease.name);
  private timer?: NodeJS.Timeout;
  private renewing?: Promise<void>;
  private renewals = 0;

  constructor(
    private readonly reservations: SlotReservations,
    private readonly states: BindingState[],
  ) {}

  start(): void {
    void this.renew();
    this.timer = setInterval(() => void this.renew(), LEASE_RENEW_MS);
    this.timer.unref();
  }

  private async sweep(): Promise<void> {
    for (const state of this.states) {
      const removed = await this.reservations.sweep(state.name).catch(() => 0);
      if (removed > 0) this.logger.log(`Binding ${state.name}: ${removed} closed task(s) dropped from the outstanding set`);
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.renewing;
    await this.reservations
      .leave()
      .catch((err: Error) => this.logger.warn(`Could not give the poll slots back on leaving: ${err.message}`));
  }

  private renew(): Promise<void> {
    if (this.renewing) return this.renewing;
    if (++this.renewals % SWEEP_EVERY === 0) void this.sweep();
    this.renewing = this.reservations
      .renew(this.states.map((s) => s.capacity.slots))
      .then(({ purged, reasserted }) => {
        if (purged > 0) this.logger.log(`Purged the poll slots of ${purged} replica(s) whose lease expired`);
        if (reasserted) this.logger.warn("This replica's lease had lapsed and its slots were purged; re-asserted them");
      })
      .catch(() => undefined) // Redis down: RedisStatus reports it; the next renewal retries.
      .finally(() => (this.renewing = undefined));
    return this.renewing;
  }
}
