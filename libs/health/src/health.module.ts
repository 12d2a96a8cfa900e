import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { PollerModule } from '@bridge/poller';
import { BindingsHealthIndicator } from './bindings.health';
import { EventLoopDelayMonitor } from './event-loop-delay.monitor';
import { EventLoopHealthIndicator } from './event-loop.health';
import { HealthController } from './health.controller';
import { RedisHealthIndicator } from './redis.health';
import { StepFunctionsHealthIndicator } from './step-functions.health';

/**
 * `/health` and `/health/ready` (@nestjs/terminus). Needs the global ConfigModule, MetricsModule
 * and QueueModule (whose RedisStatus says whether Redis is up).
 * Terminus' own failure log is off: the controller logs each readiness change once instead.
 */
@Module({
  imports: [TerminusModule.forRoot({ logger: false }), PollerModule],
  controllers: [HealthController],
  providers: [EventLoopDelayMonitor, EventLoopHealthIndicator, RedisHealthIndicator, StepFunctionsHealthIndicator, BindingsHealthIndicator],
})
export class HealthModule {}
