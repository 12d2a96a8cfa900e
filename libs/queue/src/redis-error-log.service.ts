import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { BurstLog } from '@bridge/sfn';
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { BINDING_QUEUES, BridgeQueue, PRODUCER_CONNECTION, REDIS_CONNECTION } from './queue.constants';

/**
 * Listens for errors of every Redis connection and queue. Without listeners, ioredis prints
 * "Unhandled error event" and BullMQ a stack trace for each reconnect attempt; with them a Redis
 * outage reads as one warning and one recovery line.
 */
@Injectable()
export class RedisErrorLog implements OnModuleInit {
  private readonly burst = new BurstLog(new Logger(RedisErrorLog.name), 'Redis');

  constructor(
    @Inject(REDIS_CONNECTION) private readonly redis: IORedis,
    @Inject(PRODUCER_CONNECTION) private readonly producerRedis: IORedis,
    @Inject(BINDING_QUEUES) private readonly queues: Map<string, Queue>,
    @InjectQueue(BridgeQueue.Relay) private readonly relay: Queue,
  ) {}

  onModuleInit(): void {
    const onError = (err: Error) => this.burst.failure(err.message || err.name);
    for (const connection of [this.redis, this.producerRedis]) {
      connection.on('error', onError);
      connection.on('ready', () => this.burst.success());
    }
    for (const queue of [...this.queues.values(), this.relay]) queue.on('error', onError);
  }
}
