import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { Queue } from 'bullmq';
import { BINDING_QUEUES, BridgeQueue, PRODUCER_CONNECTION, REDIS_CONNECTION } from './queue.constants';
import type { RedisClient } from './redis-connection';

/**
 * Gives every Redis connection and queue an error listener. Without one, ioredis prints
 * "Unhandled error event" and BullMQ a stack trace on every reconnect attempt. Connection outages
 * are logged once, down and back, by the health library's RedisConnectionMonitor; here connection
 * errors are only absorbed, and queue errors (BullMQ emits only non-connection ones, which are
 * rare) are logged as they come.
 */
@Injectable()
export class RedisErrorLog implements OnModuleInit {
  private readonly logger = new Logger(RedisErrorLog.name);

  constructor(
    @Inject(REDIS_CONNECTION) private readonly redis: RedisClient,
    @Inject(PRODUCER_CONNECTION) private readonly producerRedis: RedisClient,
    @Inject(BINDING_QUEUES) private readonly queues: Map<string, Queue>,
    @InjectQueue(BridgeQueue.Relay) private readonly relay: Queue,
  ) {}

  onModuleInit(): void {
    const absorb = () => undefined;
    for (const connection of [this.redis, this.producerRedis]) connection.on('error', absorb);
    for (const queue of [...this.queues.values(), this.relay]) {
      queue.on('error', (err: Error) => this.logger.warn(`Queue ${queue.name}: ${err.message || err.name}`));
    }
  }
}
