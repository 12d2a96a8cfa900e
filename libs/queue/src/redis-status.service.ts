import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { IncidentLog } from '@bridge/common';
import { BridgeMetrics } from '@bridge/metrics';
import IORedis from 'ioredis';
import { REDIS_CONNECTION } from './queue.constants';

/** A Redis outage ends (its "recovered" line) after this long connected without a connection error. */
const OUTAGE_QUIET_MS = 5_000;

/**
 * The one owner of "is Redis up": the shared connection is `ready`. The capacity gate, the health
 * check and the board ask it; it keeps `sfn_bridge_redis_up` current, remembers the last
 * connection error and when the connection went down (for /health/ready), and logs each outage as
 * one incident (start, a summary a minute, end) however many reconnect attempts, connections and
 * queues report it (RedisErrorLog hands it the queues' connection errors).
 */
@Injectable()
export class RedisStatus implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(RedisStatus.name);
  private readonly outage = new IncidentLog(this.logger, 'Redis connection', { quietMs: OUTAGE_QUIET_MS });
  private everReady = false;
  private downSince?: number;
  private lastErrorMessage?: string;

  private wasUp = false;

  private readonly onReady = () => {
    this.wasUp = true;
    this.metrics.redisUp.set(1);
    if (!this.everReady) this.logger.log('Redis connection ready');
    this.everReady = true;
    this.downSince = undefined;
    this.lastErrorMessage = undefined;
    this.outage.success();
  };
  private readonly onDown = () => {
    this.metrics.redisUp.set(this.up ? 1 : 0);
    if (this.up) return;
    this.downSince ??= Date.now();
    // A connection that was up and closed is an outage even before a reconnect attempt fails.
    if (this.wasUp) this.outage.failure(`connection lost (${this.redis.status})`, 'connection lost');
    this.wasUp = false;
  };
  private readonly onError = (err: Error) => this.connectionError(err);

  constructor(
    @Inject(REDIS_CONNECTION) private readonly redis: IORedis,
    private readonly metrics: BridgeMetrics,
  ) {}

  onModuleInit(): void {
    this.redis.on('ready', this.onReady);
    for (const event of ['close', 'end', 'reconnecting']) this.redis.on(event, this.onDown);
    this.redis.on('error', this.onError);
    this.everReady = this.wasUp = this.up;
    if (!this.up) this.downSince = Date.now();
    this.metrics.redisUp.set(this.up ? 1 : 0);
  }

  onModuleDestroy(): void {
    this.redis.off('ready', this.onReady);
    for (const event of ['close', 'end', 'reconnecting']) this.redis.off(event, this.onDown);
    this.redis.off('error', this.onError);
    this.outage.dispose();
  }

  /** The shared connection is ready: commands go to Redis now, not to ioredis' offline queue. */
  get up(): boolean {
    return this.redis.status === 'ready';
  }

  /** The connection's state in ioredis' words (`ready`, `reconnecting`, ...). */
  get state(): string {
    return this.redis.status;
  }

  /** ms since epoch when the connection last went down; unset while it is up. */
  get downSinceMs(): number | undefined {
    return this.up ? undefined : this.downSince;
  }

  get lastError(): string | undefined {
    return this.lastErrorMessage;
  }

  /** PING on the shared connection (the health check). */
  ping(): Promise<string> {
    return this.redis.ping();
  }

  /** A connection error seen anywhere (a connection, a queue): counted in the current outage. */
  connectionError(err: Error): void {
    const message = (err.message || err.name).slice(0, 200);
    this.lastErrorMessage = message;
    this.outage.failure(message, (err as NodeJS.ErrnoException).code ?? err.name);
  }
}
