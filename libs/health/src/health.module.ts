import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { PollerModule } from '@bridge/poller';
import { BindingsHealthIndicator } from './bindings.health';
import { EventLoopDelayMonitor } from './event-loop-delay.monitor';
import { EventLoopHealthIndicator } from './event-loop.health';
import { HealthController } from './health.controller';
import { RedisConnectionMonitor } from './redis-connection.monitor';
import { RedisHealthIndicator } from './redis.health';
import { StepFunctionsHealthIndicator } from './step-functions.health';

/**
 * `/health` and `/health/ready` (@nestjs/terminus), and the Redis connection monitor behind
 * `sfn_bridge_redis_up`. Needs the global ConfigModule, MetricsModule and QueueModule.
 * Terminus' own failure log is off: the controller logs each readiness change once instead.
 */
@Module({
  imports: [TerminusModule.forRoot({ logger: false }), PollerModule],
  controllers: [HealthController],
  providers: [
    EventLoopDelayMonitor,
    RedisConnectionMonitor,
    EventLoopHealthIndicator,
    RedisHealthIndicator,
    StepFunctionsHealthIndicator,
    BindingsHealthIndicator,
  ],
  exports: [RedisConnectionMonitor],
})
export class HealthModule {}
