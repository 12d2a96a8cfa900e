import { delayMs, EventLoopDelayMonitor } from './event-loop-delay.monitor';

describe('EventLoopDelayMonitor', () => {
  it('subtracts the sampling interval Node records with each delay', () => {
    expect(delayMs(100.14e6)).toBe(0.1);
    expect(delayMs(350e6)).toBe(250);
    expect(delayMs(40e6)).toBe(0);
  });

  it('reads an idle loop as near zero and a 300 ms block as about 300 ms, not 100 ms more', async () => {
    const monitor = new EventLoopDelayMonitor();
    monitor.onModuleInit();
    try {
      await new Promise((r) => setTimeout(r, 450));
      const idle = monitor.current();
      expect(idle.p99Ms).toBeLessThan(50);
      const until = Date.now() + 300;
      while (Date.now() < until) {
        // a handler that holds the loop
      }
      await new Promise((r) => setTimeout(r, 250));
      const blocked = monitor.current();
      expect(blocked.maxMs).toBeGreaterThanOrEqual(200);
      expect(blocked.maxMs).toBeLessThan(390);
    } finally {
      monitor.onModuleDestroy();
    }
  });
});
