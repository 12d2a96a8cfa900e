import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { REDIS_PING_TIMEOUT_MS } from './health.constants';
import { RedisConnectionMonitor } from './redis-connection.monitor';

/**
 * Redis answers: the shared connection is ready and PING returns within a short timeout. A
 * connection that is not ready is reported at once (no PING is queued behind the reconnect).
 */
@Injectable()
export class RedisHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly monitor: RedisConnectionMonitor,
  ) {}

  async check(key = 'redis'): Promise<HealthIndicatorResult> {
    const session = this.indicators.check(key);
    const redis = this.monitor.redis;
    if (redis.status !== 'ready') {
      const since = this.monitor.downSinceMs;
      return session.down({
        reason: `Redis connection is ${redis.status}${this.monitor.lastError ? ` (${this.monitor.lastError})` : ''}`,
        downForSeconds: since ? Math.round((Date.now() - since) / 1000) : undefined,
      });
    }
    const started = Date.now();
    try {
      const answer = await withTimeout(redis.ping(), REDIS_PING_TIMEOUT_MS);
      if (answer !== 'PONG') return session.down({ reason: `Redis answered PING with ${String(answer).slice(0, 50)}` });
      return session.up({ pingMs: Date.now() - started });
    } catch (err) {
      return session.down({ reason: `Redis PING failed: ${(err as Error).message.slice(0, 200)}` });
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
