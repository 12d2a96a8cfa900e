import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { EventLoopDelayMonitor } from './event-loop-delay.monitor';
import { EVENT_LOOP_MAX_DELAY_MS } from './health.constants';

/** The event loop keeps up: p99 delay of the last window below `EVENT_LOOP_MAX_DELAY_MS`. */
@Injectable()
export class EventLoopHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly monitor: EventLoopDelayMonitor,
  ) {}

  check(key = 'eventLoop'): HealthIndicatorResult {
    const session = this.indicators.check(key);
    const delay = this.monitor.current();
    const data = { delayP99Ms: delay.p99Ms, delayMaxMs: delay.maxMs, thresholdMs: EVENT_LOOP_MAX_DELAY_MS };
    if (delay.p99Ms > EVENT_LOOP_MAX_DELAY_MS) {
      return session.down({ ...data, reason: `event loop p99 delay ${delay.p99Ms} ms is above ${EVENT_LOOP_MAX_DELAY_MS} ms` });
    }
    return session.up(data);
  }
}
