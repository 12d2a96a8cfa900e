import IORedis from 'ioredis';
import type { Socket } from 'node:net';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../../../test/support/redis';
import { holdWritesThisTurn, inOneWrite } from './one-write';

/** How the commands reach the socket: `_writev` (one system call for many) vs `_write` (one each). */
function watchWrites(socket: Socket) {
  const writev = jest.spyOn(socket as unknown as { _writev: (chunks: unknown[], cb: () => void) => void }, '_writev');
  const write = jest.spyOn(socket as unknown as { _write: (chunk: unknown, enc: string, cb: () => void) => void }, '_write');
  return {
    seen: () => ({ writes: write.mock.calls.length, writevs: writev.mock.calls.map((c) => (c[0] as unknown[]).length) }),
    restore: () => {
      writev.mockRestore();
      write.mockRestore();
    },
  };
}

describe('commands issued together go out in one socket write (real Redis)', () => {
  const prefix = uniquePrefix('one-write');
  const redis = new IORedis(REDIS_URL);

  beforeAll(() => redis.ping());
  afterAll(async () => {
    await redis.quit();
    await cleanupPrefix(prefix);
  });

  it('writes the commands issued inside inOneWrite with one writev, and each gets its own reply', async () => {
    const w = watchWrites(redis.stream as Socket);
    try {
      const replies = await Promise.all(
        inOneWrite(redis, () => [redis.set(`${prefix}:a`, '1'), redis.incr(`${prefix}:b`), redis.get(`${prefix}:a`)]),
      );
      expect({ replies, ...w.seen() }).toEqual({ replies: ['OK', 1, '1'], writes: 0, writevs: [3] });
    } finally {
      w.restore();
    }
  });

  it('holds writes issued later in the same turn (after promise jobs) until the turn ends', async () => {
    const w = watchWrites(redis.stream as Socket);
    try {
      holdWritesThisTurn(redis);
      const first = redis.incr(`${prefix}:c`);
      await Promise.resolve(); // a library that awaits before it writes
      await Promise.resolve();
      const second = redis.incr(`${prefix}:c`);
      expect({ before: w.seen() }).toEqual({ before: { writes: 0, writevs: [] } });
      expect({ replies: await Promise.all([first, second]), after: w.seen() }).toEqual({
        replies: [1, 2],
        after: { writes: 0, writevs: [2] },
      });
    } finally {
      w.restore();
    }
  });

  it('issues what `last` issues at the end of the turn, after every command issued before, in the same write', async () => {
    const w = watchWrites(redis.stream as Socket);
    try {
      const order: string[] = [];
      let lastReply: Promise<number> | undefined;
      holdWritesThisTurn(redis, () => {
        lastReply = redis.rpush(`${prefix}:order`, 'last');
      });
      const early = redis.rpush(`${prefix}:order`, 'early');
      await Promise.resolve(); // a library that awaits before it writes
      const late = redis.rpush(`${prefix}:order`, 'late');
      await Promise.all([early, late]);
      order.push(...(await redis.lrange(`${prefix}:order`, 0, -1)));
      expect({ order, last: await lastReply, writevs: w.seen().writevs[0] }).toEqual({
        order: ['early', 'late', 'last'],
        last: 3,
        writevs: 3,
      });
    } finally {
      w.restore();
    }
  });

  it('runs `last` at the end of the turn without a socket too (a Cluster, a fake)', async () => {
    const ran = new Promise<string>((resolve) => holdWritesThisTurn({ isCluster: true }, () => resolve('ran')));
    await expect(ran).resolves.toBe('ran');
  });

  it('leaves a client without its own socket (a Cluster, a fake) alone and still issues the commands', () => {
    const issued = inOneWrite({ isCluster: true }, () => 'issued');
    holdWritesThisTurn({});
    expect(issued).toBe('issued');
  });
});
