import { BindingCapacity } from './binding-capacity';

describe('BindingCapacity', () => {
  it('lets only maxPending polls reserve a slot, so loops released by one count cannot both take the last one', () => {
    const cap = new BindingCapacity(5);
    cap.countRead(4, cap.countStarted(), 1);
    // Three loops wake on the same count (4 queued): exactly one gets the fifth slot.
    const granted = [cap.tryReservePoll(), cap.tryReservePoll(), cap.tryReservePoll()];
    expect({ granted, pending: cap.pending }).toEqual({ granted: [true, false, false], pending: 5 });
  });

  it('keeps a task counted while its write is in flight across a queue count that does not see it yet (3c9caea)', () => {
    const cap = new BindingCapacity(5);
    for (let i = 0; i < 5; i++) expect(cap.tryReservePoll()).toBe(true);
    for (let i = 0; i < 5; i++) cap.pollEnded(true); // five tasks taken, writes in flight
    const started = cap.countStarted();
    cap.writeEnded(true); // one write lands after the count was issued...
    cap.countRead(0, started, 2); // ...and the count saw none of them
    expect({ pending: cap.pending, reserved: cap.tryReservePoll() }).toEqual({ pending: 5, reserved: false });
  });

  it('subtracts only the writes a count was issued after, never one that landed later', () => {
    const cap = new BindingCapacity(10);
    for (let i = 0; i < 3; i++) {
      cap.tryReservePoll();
      cap.pollEnded(true);
      cap.writeEnded(true);
    }
    const started = cap.countStarted(); // 3 written before the count
    cap.tryReservePoll();
    cap.pollEnded(true);
    cap.writeEnded(true); // a fourth lands while the count is read (may or may not be in it)
    cap.countRead(3, started, 3);
    // 3 queued + the fourth still counted as written: an overcount until the next count, never an undercount.
    expect(cap.pending).toBe(4);
    cap.countRead(4, cap.countStarted(), 4);
    expect(cap.pending).toBe(4);
  });

  it('frees the slot of an empty poll and of a write that failed', () => {
    const cap = new BindingCapacity(1);
    expect(cap.tryReservePoll()).toBe(true);
    cap.pollEnded(false);
    expect(cap.pending).toBe(0);
    expect(cap.tryReservePoll()).toBe(true);
    cap.pollEnded(true);
    expect(cap.tryReservePoll()).toBe(false);
    cap.writeEnded(false); // Bridge.EnqueueFailed: nothing in Redis
    expect(cap.pending).toBe(0);
  });

  it('refuses transitions without their start (a bug, not a state)', () => {
    const cap = new BindingCapacity(1);
    expect(() => cap.pollEnded(true)).toThrow(/without a reserved poll/);
    expect(() => cap.writeEnded(true)).toThrow(/without a write in flight/);
  });

  it('asks for a re-count after a failed one', () => {
    const cap = new BindingCapacity(1);
    cap.countRead(0, cap.countStarted(), 1234);
    expect(cap.countedAt).toBe(1234);
    cap.countFailed();
    expect(cap.countedAt).toBe(0);
  });
});
