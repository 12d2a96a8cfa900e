import { EVENT_LOOP_SAMPLE_MS } from '@bridge/metrics';
import { delayMs, EventLoopDelayMonitor } from './event-loop-delay.monitor';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('EventLoopDelayMonitor', () => {
  it('subtracts the sampling interval Node records with each delay', () => {
    expect(delayMs((EVENT_LOOP_SAMPLE_MS + 0.14) * 1e6)).toBe(0.1);
    expect(delayMs((EVENT_LOOP_SAMPLE_MS + 250) * 1e6)).toBe(250);
    expect(delayMs((EVENT_LOOP_SAMPLE_MS - 40) * 1e6)).toBe(0);
  });

  it('reads an idle loop as near zero and a loop held up as late as it was, not one interval more', async () => {
    const monitor = new EventLoopDelayMonitor();
    monitor.onModuleInit();
    try {
      await wait(EVENT_LOOP_SAMPLE_MS * 2 + 200);
      expect(monitor.current().p99Ms).toBeLessThan(50);
      // Held past one sampling interval: the sample due inside the hold fires at its end, late by
      // up to the hold (at least hold - interval).
      const holdMs = EVENT_LOOP_SAMPLE_MS + 200;
      const until = Date.now() + holdMs;
      while (Date.now() < until) {
        // a handler that holds the loop
      }
      await wait(50);
      const held = monitor.current();
      expect(held.maxMs).toBeGreaterThanOrEqual(150);
      expect(held.maxMs).toBeLessThan(holdMs + 90);
    } finally {
      monitor.onModuleDestroy();
    }
  });
});
