/**
 * How many tasks one binding is responsible for in this process, against its `maxPending`, as one
 * small object with named transitions (the counters used to be public fields poked from the poller
 * and the capacity gate; the 3c9caea undercount and a double release lived in that seam). A task is
 * counted from the moment a poll is reserved for it until a queue count includes it:
 *
 *   tryReservePoll -> pollEnded(withTask) -> writeEnded(landed) -> counted by a later queue count
 *
 * `tryReservePoll` checks and takes the slot in one synchronous step, so two loops released by the
 * same queue count cannot both take the last slot. (Issue 10 may back the same transitions with a
 * cross-replica reservation in Redis.)
 */
export class BindingCapacity {
  private polls = 0;
  private writing = 0;
  private writtenSinceCount = 0;
  private queuedAtCount = 0;
  private countedAtMs = 0;

  constructor(readonly maxPending: number) {}

  /** Tasks this binding is responsible for right now, as far as this process knows. */
  get pending(): number {
    return this.queuedAtCount + this.writtenSinceCount + this.writing + this.polls;
  }

  /** GetActivityTask calls in flight (reserved). */
  get parkedPolls(): number {
    return this.polls;
  }

  /** Jobs the last queue count saw. */
  get queued(): number {
    return this.queuedAtCount;
  }

  /** ms since epoch of the last queue count (0: none, or it must be re-read). */
  get countedAt(): number {
    return this.countedAtMs;
  }

  /** Takes a slot for one poll if there is room; false (nothing changed) when full. */
  tryReservePoll(): boolean {
    if (this.pending >= this.maxPending) return false;
    this.polls++;
    return true;
  }

  /** The poll came back: with a task, its slot passes to the task's write; without, it is freed. */
  pollEnded(withTask: boolean): void {
    if (this.polls === 0) throw new Error('BindingCapacity.pollEnded without a reserved poll');
    this.polls--;
    if (withTask) this.writing++;
  }

  /** The task's write to Redis ended: if it landed, the task counts as written until a count sees it. */
  writeEnded(landed: boolean): void {
    if (this.writing === 0) throw new Error('BindingCapacity.writeEnded without a write in flight');
    this.writing--;
    if (landed) this.writtenSinceCount++;
  }

  /**
   * A queue count is about to be read: returns what to hand to `countRead`. Writes that land after
   * this may or may not be in the count; they stay counted as written (an overcount, never an
   * undercount) until the next count.
   */
  countStarted(): number {
    return this.writtenSinceCount;
  }

  /** The queue count (jobs waiting/active/delayed/prioritized) read after `countStarted`. */
  countRead(counted: number, started: number, atMs: number): void {
    this.queuedAtCount = counted;
    this.writtenSinceCount -= started;
    this.countedAtMs = atMs;
  }

  /** The count failed (Redis went away): re-read it before trusting it again. */
  countFailed(): void {
    this.countedAtMs = 0;
  }
}
