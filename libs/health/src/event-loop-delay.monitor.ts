import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { EVENT_LOOP_SAMPLE_MS } from '@bridge/metrics';
import { EVENT_LOOP_WINDOW_MS } from './health.constants';

export interface EventLoopDelay {
  /** p99 delay (ms) of the last complete window, or of the current one before the first ends. */
  p99Ms: number;
  /** Largest delay (ms) seen in that window. */
  maxMs: number;
}

/**
 * Samples the event loop's delay (perf_hooks `monitorEventLoopDelay`) in fixed windows, so the
 * liveness check reports recent behaviour rather than an average since start.
 */
@Injectable()
export class EventLoopDelayMonitor implements OnModuleInit, OnModuleDestroy {
  private histogram?: IntervalHistogram;
  private timer?: NodeJS.Timeout;
  private lastWindow?: EventLoopDelay;

  onModuleInit(): void {
    // Coarse sampling (each sample is a timer waking the process); the threshold is a second.
    this.histogram = monitorEventLoopDelay({ resolution: EVENT_LOOP_SAMPLE_MS });
    this.histogram.enable();
    this.timer = setInterval(() => {
      this.lastWindow = this.read();
      this.histogram?.reset();
    }, EVENT_LOOP_WINDOW_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
    this.histogram?.disable();
  }

  current(): EventLoopDelay {
    return this.lastWindow ?? this.read();
  }

  private read(): EventLoopDelay {
    const h = this.histogram;
    if (!h || h.count === 0) return { p99Ms: 0, maxMs: 0 };
    return { p99Ms: delayMs(h.percentile(99)), maxMs: delayMs(h.max) };
  }
}

/**
 * Node's histogram records each whole sampling interval (an idle loop sampled every 100 ms
 * reads min 100.1 ms), so the delay is the recorded interval minus the resolution.
 */
export const delayMs = (recordedNs: number): number => Math.round(Math.max(0, recordedNs / 1e6 - EVENT_LOOP_SAMPLE_MS) * 10) / 10;
