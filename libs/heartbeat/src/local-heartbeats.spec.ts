import { LocalHeartbeats } from './local-heartbeats';

describe('LocalHeartbeats', () => {
  const task = (n: number) => ({ taskToken: `token-${n}`, binding: 'b', intervalMs: 1_000 });

  it('returns the due tokens, earliest first, at most max', () => {
    const local = new LocalHeartbeats();
    local.remember('a', { ...task(1), nextDueAt: 300 }, 0);
    local.remember('b', { ...task(2), nextDueAt: 100 }, 0);
    local.remember('c', { ...task(3), nextDueAt: 900 }, 0);
    expect(local.due(500, 10).map(([id]) => id)).toEqual(['b', 'a']);
    expect(local.due(500, 1).map(([id]) => id)).toEqual(['b']);
  });

  it('moves a token on when it is heartbeated and drops it when forgotten', () => {
    const local = new LocalHeartbeats();
    local.remember('a', { ...task(1), nextDueAt: 100 }, 0);
    local.touch('a', 2_000, 100);
    expect(local.due(500, 10)).toEqual([]);
    local.forget('a');
    expect(local.size).toBe(0);
  });

  it('treats entries untouched for three intervals (+10 s) as stale: not due, pruned, not re-seeded', () => {
    const local = new LocalHeartbeats();
    local.remember('old', { ...task(1), nextDueAt: 0 }, 0);
    local.remember('new', { ...task(2), nextDueAt: 0 }, 12_000);
    const now = 13_500; // 'old' was touched 13.5 s ago: more than 3 x 1 s + 10 s
    expect(local.due(now, 10).map(([id]) => id)).toEqual(['new']);
    expect(local.freshEntries(now).map(([id]) => id)).toEqual(['new']);
    expect(local.prune(now)).toBe(1);
    expect(local.size).toBe(1);
  });
});
