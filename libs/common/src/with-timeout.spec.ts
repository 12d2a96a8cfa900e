import { TimeoutError, withTimeout } from './with-timeout';

describe('withTimeout', () => {
  it('passes the value through when the promise settles in time', async () => {
    await expect(withTimeout(Promise.resolve(42), 1_000, 'the answer')).resolves.toBe(42);
  });

  it('passes the rejection through when the promise fails in time', async () => {
    await expect(withTimeout(Promise.reject(new Error('boom')), 1_000)).rejects.toThrow('boom');
  });

  it('rejects naming what it waited for when the promise is too slow', async () => {
    const never = new Promise<void>(() => undefined);
    const err = await withTimeout(never, 20, 'redis-server to exit').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toBe('Timed out after 20 ms: redis-server to exit');
  });
});
