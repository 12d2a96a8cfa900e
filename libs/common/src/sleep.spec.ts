import { sleep } from './sleep';

describe('sleep', () => {
  it('resolves at once when the signal aborts', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const pending = sleep(60_000, controller.signal);
    controller.abort();
    await pending;
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('resolves at once when the signal had already aborted', async () => {
    const started = Date.now();
    await sleep(60_000, AbortSignal.abort());
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
