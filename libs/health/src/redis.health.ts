import { withTimeout } from '@bridge/common';
import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { RedisStatus } from '@bridge/queue';
import { REDIS_PING_TIMEOUT_MS } from './health.constants';

/**
 * Redis answers: the shared connection is up (RedisStatus) and PING returns within a short
 * timeout. A connection that is not up is reported at once (no PING is queued behind the reconnect).
 */
@Injectable()
export class RedisHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly redis: RedisStatus,
  ) {}

  async check(key = 'redis'): Promise<HealthIndicatorResult> {
    const session = this.indicators.check(key);
    if (!this.redis.up) {
      const since = this.redis.downSinceMs;
      return session.down({
        reason: `Redis connection is ${this.redis.state}${this.redis.lastError ? ` (${this.redis.lastError})` : ''}`,
        downForSeconds: since ? Math.round((Date.now() - since) / 1000) : undefined,
      });
    }
    const started = Date.now();
    try {
      const answer = await withTimeout(this.redis.ping(), REDIS_PING_TIMEOUT_MS, 'PING');
      if (answer !== 'PONG') return session.down({ reason: `Redis answered PING with ${String(answer).slice(0, 50)}` });
      return session.up({ pingMs: Date.now() - started });
    } catch (err) {
      return session.down({ reason: `Redis PING failed: ${(err as Error).message.slice(0, 200)}` });
    }
  }
}
