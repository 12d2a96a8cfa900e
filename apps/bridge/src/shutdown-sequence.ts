import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { PollerService } from '@bridge/poller';
import { RedisConnectionGroup } from '@bridge/queue';

/**
 * The first step of every shutdown (SIGTERM or `app.close()`): Nest destroys the root module's
 * providers first, and modules deeper in the import graph later, so without this the relay,
 * heartbeats and the event reader would close before the polls are drained. Here: drain the polls
 * (their tasks are enqueued, up to SHUTDOWN_DRAIN_TIMEOUT_MS), then stop Redis reconnects so no
 * later close waits for a Redis that is not there.
 */
@Injectable()
export class ShutdownSequence implements OnModuleDestroy {
  private readonly logger = new Logger(ShutdownSequence.name);

  constructor(
    private readonly poller: PollerService,
    private readonly redis: RedisConnectionGroup,
  ) {}

  async onModuleDestroy(): Promise<void> {
    await this.poller.drain();
    const ended = this.redis.endReconnects();
    if (ended > 0) this.logger.warn(`Redis is not connected: ended ${ended} connection(s) instead of waiting for it`);
  }
}
