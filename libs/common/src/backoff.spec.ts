import { fullJitterDelay } from './backoff';

describe('fullJitterDelay', () => {
  const policy = { baseMs: 100, capMs: 5_000 };

  it('draws uniformly below base * 2^attempt', () => {
    expect(fullJitterDelay(0, policy, () => 0.999)).toBe(99);
    expect(fullJitterDelay(3, policy, () => 0.5)).toBe(400);
    expect(fullJitterDelay(3, policy, () => 0)).toBe(0);
  });

  it('never exceeds the cap, even for huge attempt numbers', () => {
    expect(fullJitterDelay(10, policy, () => 0.999)).toBeLessThan(5_000);
    expect(fullJitterDelay(10_000, policy, () => 0.999)).toBeLessThan(5_000);
  });
});
