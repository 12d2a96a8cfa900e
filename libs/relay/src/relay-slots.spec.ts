import { RelaySlots } from './relay-slots';

/** A run that ends when told to. */
function held() {
  const ends = new Map<string, () => void>();
  const started: string[] = [];
  const start = (item: { key: string }) =>
    new Promise<void>((resolve) => {
      started.push(item.key);
      ends.set(item.key, resolve);
    });
  const end = async (key: string) => {
    ends.get(key)!();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { start, end, started };
}

describe('RelaySlots (RELAY_CONCURRENCY)', () => {
  it('runs at most the limit at once and starts waiting items in arrival order as runs end', async () => {
    const h = held();
    const slots = new RelaySlots(2, h.start);
    for (const key of ['a', 'b', 'c', 'd']) slots.add(key, { key });
    expect({ started: [...h.started], size: slots.size }).toEqual({ started: ['a', 'b'], size: 4 });
    await h.end('a');
    expect({ started: [...h.started], size: slots.size }).toEqual({ started: ['a', 'b', 'c'], size: 3 });
  });

  it('finds the item running or waiting under a key, for a second arrival to join', () => {
    const h = held();
    const slots = new RelaySlots(1, h.start);
    const a = { key: 'a' };
    const b = { key: 'b' };
    slots.add('a', a);
    slots.add('b', b);
    expect({ running: slots.find('a'), waiting: slots.find('b'), none: slots.find('c') }).toEqual({
      running: a,
      waiting: b,
      none: undefined,
    });
  });

  it('has room only while fewer than the limit run or wait', async () => {
    const h = held();
    const slots = new RelaySlots(1, h.start);
    slots.add('a', { key: 'a' });
    let roomy = false;
    const room = slots.room().then(() => (roomy = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(roomy).toBe(false);
    await h.end('a');
    await room;
    expect({ roomy, size: slots.size }).toEqual({ roomy: true, size: 0 });
  });

  it('on close drops what waits, frees room() and resolves once the runs end', async () => {
    const h = held();
    const slots = new RelaySlots(1, h.start);
    slots.add('a', { key: 'a' });
    slots.add('b', { key: 'b' });
    let closed = false;
    const closing = slots.close().then(() => (closed = true));
    await slots.room();
    await new Promise((resolve) => setImmediate(resolve));
    expect({ closed, size: slots.size }).toEqual({ closed: false, size: 1 });
    await h.end('a');
    await closing;
    expect({ closed, started: [...h.started], size: slots.size }).toEqual({ closed: true, started: ['a'], size: 0 });
  });
});
