import { Controller, Get, Logger, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheck, HealthCheckResult, HealthCheckService, HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { BindingsHealthIndicator } from './bindings.health';
import { EventLoopHealthIndicator } from './event-loop.health';
import { RedisHealthIndicator } from './redis.health';
import { StepFunctionsHealthIndicator } from './step-functions.health';

/**
 * `GET /health`: liveness (the process runs, its event loop keeps up). `GET /health/ready`:
 * readiness (Redis answers, Step Functions answers, every binding healthy). Both answer 200 with
 * terminus' body `{ status, info, error, details }`, or 503 with the same body when a check is
 * down; each down check carries a `reason`. Neither is behind Bull Board's basic auth.
 */
@Controller('health')
export class HealthController {
  private readonly logger = new Logger(HealthController.name);
  private wasReady?: boolean;

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly eventLoop: EventLoopHealthIndicator,
    private readonly redis: RedisHealthIndicator,
    private readonly stepFunctions: StepFunctionsHealthIndicator,
    private readonly bindings: BindingsHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  live(): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.indicators.check('process').up({ pid: process.pid, uptimeSeconds: Math.round(process.uptime()) }),
      () => this.eventLoop.check(),
    ]);
  }

  @Get('ready')
  @HealthCheck()
  async ready(): Promise<HealthCheckResult & { unknown?: HealthIndicatorResult }> {
    // Terminus drops a check that is neither up nor down: keep an `unknown` one, shown in
    // `details` and `unknown` (it does not fail readiness by itself).
    let unknown: HealthIndicatorResult | undefined;
    const withUnknown = (body: HealthCheckResult) =>
      unknown ? Object.assign(body, { unknown, details: { ...body.details, ...unknown } }) : body;
    try {
      const result = await this.health.check([
        () => this.redis.check(),
        () => {
          const r = this.stepFunctions.check();
          if (Object.values(r).some((v) => v.status !== 'up' && v.status !== 'down')) unknown = r;
          return r;
        },
        () => this.bindings.check(),
      ]);
      this.noteReadiness(true, result);
      return withUnknown(result);
    } catch (err) {
      if (err instanceof ServiceUnavailableException) {
        const body = err.getResponse() as HealthCheckResult;
        this.noteReadiness(false, body);
        withUnknown(body);
      }
      throw err;
    }
  }

  /** One log line per change of readiness, not one per probe. */
  private noteReadiness(ready: boolean, result: HealthCheckResult): void {
    if (ready === this.wasReady) return;
    const first = this.wasReady === undefined;
    this.wasReady = ready;
    if (ready) {
      if (!first) this.logger.log('Ready again: Redis, Step Functions and every binding answer');
      return;
    }
    const reasons = Object.entries(result.error ?? {})
      .map(([key, value]) => `${key}: ${String((value as { reason?: unknown }).reason ?? 'down')}`)
      .join('; ');
    this.logger.warn(`Not ready (${result.status}): ${reasons || 'shutting down'}`);
  }
}
