import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { BridgeMetrics } from '@bridge/metrics';
import { REDIS_CONNECTION } from '@bridge/queue';
import IORedis from 'ioredis';

/**
 * Follows the shared Redis connection through its events: keeps `sfn_bridge_redis_up` current,
 * remembers the last connection error for /health/ready, and logs each outage once (down, then
 * back) rather than every reconnect attempt.
 */
@Injectable()
export class RedisConnectionMonitor implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(RedisConnectionMonitor.name);
  private up = false;
  private everReady = false;
  private downSince?: number;
  lastError?: string;

  private readonly onReady = () => this.setUp(true);
  private readonly onDown = () => this.setUp(false);
  private readonly onError = (err: Error) => {
    this.lastError = err.message.slice(0, 200);
  };

  constructor(
    @Inject(REDIS_CONNECTION) readonly redis: IORedis,
    private readonly metrics: BridgeMetrics,
  ) {}

  onModuleInit(): void {
    this.redis.on('ready', this.onReady);
    for (const event of ['close', 'end', 'reconnecting']) this.redis.on(event, this.onDown);
    this.redis.on('error', this.onError);
    this.up = this.everReady = this.redis.status === 'ready';
    if (!this.up) this.downSince = Date.now();
    this.metrics.redisUp.set(this.up ? 1 : 0);
  }

  onModuleDestroy(): void {
    this.redis.off('ready', this.onReady);
    for (const event of ['close', 'end', 'reconnecting']) this.redis.off(event, this.onDown);
    this.redis.off('error', this.onError);
  }

  /** ms since epoch when the connection last went down; unset while it is up. */
  get downSinceMs(): number | undefined {
    return this.downSince;
  }

  private setUp(up: boolean): void {
    this.metrics.redisUp.set(up ? 1 : 0);
    if (up === this.up) return;
    this.up = up;
    if (up) {
      const seconds = this.downSince ? ((Date.now() - this.downSince) / 1000).toFixed(1) : '?';
      this.logger.log(this.everReady ? `Redis connection ready again after ${seconds} s down` : 'Redis connection ready');
      this.everReady = true;
      this.downSince = undefined;
      this.lastError = undefined;
    } else {
      this.downSince = Date.now();
      this.logger.warn(`Redis connection lost (${this.redis.status}${this.lastError ? `: ${this.lastError}` : ''}); reconnecting`);
    }
  }
}
