import { BullModule, getQueueToken } from '@nestjs/bullmq';
import { DynamicModule, Global, Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { BridgeConfig } from '@bridge/config';
import { bullmqTelemetry } from '@bridge/tracing';
import { Queue } from 'bullmq';
import { BINDING_QUEUES, PRODUCER_CONNECTION, PRODUCER_QUEUES, REDIS_CONNECTION } from './queue.constants';
import { createRedisConnection, RedisClient } from './redis-connection';
import { RedisConnectionGroup } from './redis-connection-group';
import { RedisErrorLog } from './redis-error-log.service';
import { RedisStatus } from './redis-status.service';

/** Every distinct binding queue name, in config order. */
export function bindingQueueNames(config: BridgeConfig): string[] {
  return [...new Set(config.bindings.map((b) => b.queue))];
}

/**
 * Redis and BullMQ wiring: one shared connection and every binding queue on it, and the producer's
 * own connection with the same queues on it (task jobs are added there), all under `BULLMQ_PREFIX`.
 */
@Global()
@Module({})
export class QueueModule implements OnApplicationShutdown {
  private readonly logger = new Logger(QueueModule.name);

  constructor(
    @Inject(REDIS_CONNECTION) private readonly redis: RedisClient,
    @Inject(PRODUCER_CONNECTION) private readonly producerRedis: RedisClient,
    @Inject(PRODUCER_QUEUES) private readonly producerQueues: Map<string, Queue>,
    private readonly group: RedisConnectionGroup,
  ) {}

  static forRoot(config: BridgeConfig): DynamicModule {
    // Every connection (and every duplicate BullMQ makes) can be ended at shutdown, Redis up or not.
    const group = new RedisConnectionGroup();
    const connection = group.adopt(createRedisConnection(config.redis));
    // The producer's connection fails fast while Redis is down (no offline queue; on a Cluster the
    // producer checks the status itself, see redis-connection.ts), so a write that did not happen
    // is known and retried, instead of being replayed after the TaskProducer gave up.
    const producerConnection = group.adopt(createRedisConnection(config.redis, { enableOfflineQueue: false }));
    const names = bindingQueueNames(config);
    // With tracing on, BullMQ's OpenTelemetry integration on every queue (the task's job carries its context).
    const telemetry = bullmqTelemetry();
    const bull = [
      BullModule.forRoot({ connection, prefix: config.redis.prefix, ...telemetry }),
      BullModule.registerQueue(...names.map((name) => ({ name }))),
    ];
    return {
      module: QueueModule,
      imports: bull,
      providers: [
        { provide: RedisConnectionGroup, useValue: group },
        { provide: REDIS_CONNECTION, useValue: connection },
        { provide: PRODUCER_CONNECTION, useValue: producerConnection },
        {
          // Queue objects only add jobs here; a shared connection is not closed by Queue.close().
          provide: PRODUCER_QUEUES,
          useFactory: () =>
            new Map(
              names.map((name) => [name, new Queue(name, { connection: producerConnection, prefix: config.redis.prefix, ...telemetry })]),
            ),
        },
        {
          provide: BINDING_QUEUES,
          inject: names.map((n) => getQueueToken(n)),
          useFactory: (...queues: Queue[]) => new Map(queues.map((q) => [q.name, q])),
        },
        RedisErrorLog,
        RedisStatus,
      ],
      exports: [...bull, REDIS_CONNECTION, PRODUCER_CONNECTION, PRODUCER_QUEUES, BINDING_QUEUES, RedisConnectionGroup, RedisStatus],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    this.group.endReconnects();
    await Promise.allSettled([...this.producerQueues.values()].map((q) => q.close()));
    await Promise.all([this.redis, this.producerRedis].map((c) => this.close(c)));
  }

  private async close(connection: RedisClient): Promise<void> {
    // Already closed: disconnect() on an ended
    // connection would arm ioredis' 2 s "destroy the stream" timer that nothing clears, keeping
    // the process alive after shutdown.
    if (connection.status === 'end') return;
    try {
      if (connection.status === 'ready') await connection.quit();
      else connection.disconnect();
    } catch (err) {
      this.logger.warn(`Closing a Redis connection failed: ${(err as Error).message}`);
      connection.disconnect();
    }
  }
}
