import { BindingCapacity } from './binding-capacity';

describe('BindingCapacity', () => {
  it('follows a slot from grant through polls to a taken task that keeps or loses it', () => {
    const cap = new BindingCapacity(5);
    cap.granted(2, 3);
    cap.pollStarted();
    cap.pollStarted();
    cap.pollEnded(); // empty: the slot polls again
    cap.pollStarted();
    cap.pollEnded();
    cap.taken(false, 4); // task taken, no room left: the slot went with it
    expect({ slots: cap.slots, parked: cap.parkedPolls, outstanding: cap.outstanding }).toEqual({ slots: 1, parked: 1, outstanding: 4 });
  });

  it('refuses transitions without their start (a bug, not a state)', () => {
    const cap = new BindingCapacity(1);
    expect(() => cap.pollStarted()).toThrow(/without a slot/);
    expect(() => cap.pollEnded()).toThrow(/without a poll in flight/);
    expect(() => cap.released(1)).toThrow(/more slots given back than held/);
  });
});
