/**
 * This replica's share of one binding's `maxPending`, as a local mirror of what Redis holds for it
 * (SlotReservations), with named transitions. The exact cross-replica figure lives in Redis: tasks
 * taken and not closed (the outstanding set) + poll slots held by live replicas. A loop holds one
 * slot from its grant until it stops polling or its poll's task takes the slot over:
 *
 *   granted -> pollStarted -> pollEnded -> (empty: same slot polls again) | (task: taken(kept))
 *   ... -> released (the loop stops: shed by the autoscaler, drain)
 */
export class BindingCapacity {
  private slotCount = 0;
  private polls = 0;
  private outstandingSeen = 0;

  constructor(readonly maxPending: number) {}

  /** Poll slots this replica holds in Redis for the binding. */
  get slots(): number {
    return this.slotCount;
  }

  /** GetActivityTask calls in flight. */
  get parkedPolls(): number {
    return this.polls;
  }

  /** Outstanding tasks of the binding (all replicas), as Redis last reported them. */
  get outstanding(): number {
    return this.outstandingSeen;
  }

  granted(n: number, outstanding: number): void {
    this.slotCount += n;
    this.outstandingSeen = outstanding;
  }

  pollStarted(): void {
    if (this.polls >= this.slotCount) throw new Error('BindingCapacity.pollStarted without a slot');
    this.polls++;
  }

  pollEnded(): void {
    if (this.polls === 0) throw new Error('BindingCapacity.pollEnded without a poll in flight');
    this.polls--;
  }

  /** The poll's task is outstanding in Redis; its slot stayed ours (`kept`) or was given back. */
  taken(kept: boolean, outstanding: number): void {
    if (!kept) this.lose(1);
    this.outstandingSeen = outstanding;
  }

  /** Slots given back (a loop stopped), or no longer ours (a task write of unknown fate). */
  released(n: number): void {
    this.lose(n);
  }

  private lose(n: number): void {
    if (n > this.slotCount) throw new Error('BindingCapacity: more slots given back than held');
    this.slotCount -= n;
  }
}
