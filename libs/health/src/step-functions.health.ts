import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { BRIDGE_CONFIG, BridgeConfig, redactUrl } from '@bridge/config';
import { PollerService } from '@bridge/poller';
import { SFN_MIN_NO_ANSWERS, SFN_NO_ANSWER_MS } from './health.constants';

/**
 * Step Functions answers, judged only from the pollers' own GetActivityTask calls (the IAM policy
 * grants nothing else): any answer, a task, an empty poll or an AWS error, proves it reachable.
 * It is down when every binding's recent polls got no answer at all (network errors, timeouts)
 * for `SFN_NO_ANSWER_MS`. Before the first answer it counts as up while a poll is parked (polls
 * park up to 60 s), and as `unknown` while none is (they wait for Redis, or for room): nothing has
 * been asked yet. Terminus knows only up and down, so the controller reports `unknown` itself.
 */
@Injectable()
export class StepFunctionsHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly poller: PollerService,
    @Inject(BRIDGE_CONFIG) private readonly config: BridgeConfig,
  ) {}

  check(key = 'stepFunctions'): HealthIndicatorResult {
    const session = this.indicators.check(key);
    const now = Date.now();
    const statuses = this.poller.status();
    const lastAnswer = Math.max(0, ...statuses.map((s) => s.lastResponseAt ?? 0));
    const info = {
      endpoint: this.config.aws.endpoint ? redactUrl(this.config.aws.endpoint) : `states.${this.config.aws.region}.amazonaws.com`,
      lastAnswerAt: lastAnswer > 0 ? new Date(lastAnswer).toISOString() : null,
    };
    const failing = statuses.filter(
      (s) => s.noAnswerSince !== undefined && s.noAnswerCount >= SFN_MIN_NO_ANSWERS && now - s.noAnswerSince >= SFN_NO_ANSWER_MS,
    );
    if (statuses.length > 0 && failing.length === statuses.length) {
      const since = Math.min(...failing.map((s) => s.noAnswerSince ?? now));
      const errors = [...new Set(failing.map((s) => s.lastError ?? 'unknown'))].join(', ');
      return session.down({
        ...info,
        reason: `Step Functions has not answered any poll for ${Math.round((now - since) / 1000)} s (${errors})`,
      });
    }
    if (lastAnswer === 0 && statuses.every((s) => s.parkedPolls === 0 && s.noAnswerCount === 0)) {
      const unknown = { status: 'unknown', ...info, reason: 'no poll has run yet (polls wait for Redis and for room under maxPending)' };
      return { [key]: unknown } as unknown as HealthIndicatorResult; // terminus' type knows only up and down
    }
    return session.up(info);
  }
}
