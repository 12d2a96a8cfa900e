import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { BRIDGE_CONFIG, BridgeConfig } from '@bridge/config';
import { bindingQueueNames, REDIS_CONNECTION } from '@bridge/queue';
import { QueueEvents } from 'bullmq';
import IORedis from 'ioredis';
import { HeartbeatSchedule } from './heartbeat-schedule.service';

/**
 * Consumer progress (`job.updateProgress`) is a liveness signal: it makes the task's heartbeat due
 * at once, at most once per HEARTBEAT_PROGRESS_MIN_INTERVAL_MS per job across all replicas. The
 * heartbeat itself is still sent by the scheduled pass, inside the global rate budget.
 */
@Injectable()
export class ProgressListener implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ProgressListener.name);
  private readonly events: QueueEvents[] = [];

  constructor(
    @Inject(BRIDGE_CONFIG) private readonly config: BridgeConfig,
    @Inject(REDIS_CONNECTION) private readonly redis: IORedis,
    private readonly schedule: HeartbeatSchedule,
  ) {}

  onApplicationBootstrap(): void {
    const minInterval = this.config.heartbeat.progressMinIntervalMs;
    for (const name of bindingQueueNames(this.config)) {
      const events = new QueueEvents(name, { connection: this.redis, prefix: this.config.redis.prefix });
      events.on('progress', ({ jobId }) => {
        this.schedule.expedite(jobId, minInterval).catch((err: Error) => {
          this.logger.debug(`Progress heartbeat for job ${jobId.slice(0, 12)} not scheduled: ${err.message}`);
        });
      });
      events.on('error', (err) => this.logger.debug(`Queue events (${name}): ${err.message}`));
      this.events.push(events);
    }
  }

  async onModuleDestroy(): Promise<void> {
    const results = await Promise.allSettled(this.events.map((e) => e.close()));
    results.forEach((r) => {
      if (r.status === 'rejected') this.logger.warn(`Closing queue events failed: ${(r.reason as Error).message}`);
    });
  }
}
