import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { PollerService } from '@bridge/poller';

/** Every binding healthy: its activity exists and its ARN is valid (PollerService's view). */
@Injectable()
export class BindingsHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly poller: PollerService,
  ) {}

  check(key = 'bindings'): HealthIndicatorResult {
    const session = this.indicators.check(key);
    const bindings = Object.fromEntries(
      this.poller.status().map((s) => [
        s.binding,
        {
          healthy: s.healthy,
          activityArn: s.activityArn,
          parkedPolls: s.parkedPolls,
          activePollers: s.activePollers,
          ...(s.lastError ? { lastError: s.lastError } : {}),
        },
      ]),
    );
    const broken = Object.entries(bindings).filter(([, b]) => !b.healthy);
    if (broken.length === 0) return session.up({ bindings });
    const reason = broken.map(([name, b]) => `binding ${name}: ${b.lastError ?? 'unhealthy'}`).join('; ');
    return session.down({ reason, bindings });
  }
}
