import { BullModule, getQueueToken } from '@nestjs/bullmq';
import { DynamicModule, Global, Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { BridgeConfig } from '@bridge/config';
import { bullmqTelemetry } from '@bridge/tracing';
import { Queue } from 'bullmq';
import { BINDING_QUEUES, BridgeQueue, PRODUCER_CONNECTION, REDIS_CONNECTION } from './queue.constants';
import { createRedisConnection, RedisClient } from './redis-connection';
import { RedisConnectionGroup } from './redis-connection-group';
import { RedisErrorLog } from './redis-error-log.service';
import { RedisStatus } from './redis-status.service';

/** Name of the flow producer that writes each task's relay + child jobs. */
export const TASK_FLOW_PRODUCER = 'sfn-bridge-tasks';

/** Every distinct binding queue name, in config order. */
export function bindingQueueNames(config: BridgeConfig): string[] {
  return [...new Set(config.bindings.map((b) => b.queue))];
}

/**
 * Redis and BullMQ wiring: one shared connection, every binding queue, the relay queue and the
 * task flow producer, all under `BULLMQ_PREFIX`.
 */
@Global()
@Module({})
export class QueueModule implements OnApplicationShutdown {
  private readonly logger = new Logger(QueueModule.name);

  constructor(
    @Inject(REDIS_CONNECTION) private readonly redis: RedisClient,
    @Inject(PRODUCER_CONNECTION) private readonly producerRedis: RedisClient,
    private readonly group: RedisConnectionGroup,
  ) {}

  static forRoot(config: BridgeConfig): DynamicModule {
    // Every connection (and every duplicate BullMQ makes) can be ended at shutdown, Redis up or not.
    const group = new RedisConnectionGroup();
    const connection = group.adopt(createRedisConnection(config.redis));
    // The flow producer fails fast while Redis is down (no offline queue; on a Cluster the producer
    // checks the status itself, see redis-connection.ts), so a write that did not happen is known
    // and retried, instead of being replayed after the TaskProducer gave up.
    const producerConnection = group.adopt(createRedisConnection(config.redis, { enableOfflineQueue: false }));
    const names = bindingQueueNames(config);
    const bull = [
      // With tracing on, BullMQ's OpenTelemetry integration on every queue, the flow producer and the relay worker.
      BullModule.forRoot({ connection, prefix: config.redis.prefix, ...bullmqTelemetry() }),
      BullModule.registerQueue(...names.map((name) => ({ name })), { name: BridgeQueue.Relay }),
      // Not force-disconnected by @nestjs/bullmq: that waits for a connection that never got ready
      // (shutdown with Redis unreachable hung there, or threw and skipped every later close hook);
      // this module closes the connection itself.
      BullModule.registerFlowProducer({ name: TASK_FLOW_PRODUCER, connection: producerConnection, forceDisconnectOnShutdown: false }),
    ];
    return {
      module: QueueModule,
      imports: bull,
      providers: [
        { provide: RedisConnectionGroup, useValue: group },
        { provide: REDIS_CONNECTION, useValue: connection },
        { provide: PRODUCER_CONNECTION, useValue: producerConnection },
        {
          provide: BINDING_QUEUES,
          inject: names.map((n) => getQueueToken(n)),
          useFactory: (...queues: Queue[]) => new Map(queues.map((q) => [q.name, q])),
        },
        RedisErrorLog,
        RedisStatus,
      ],
      exports: [...bull, REDIS_CONNECTION, PRODUCER_CONNECTION, BINDING_QUEUES, RedisConnectionGroup, RedisStatus],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    this.group.endReconnects();
    await Promise.all([this.redis, this.producerRedis].map((c) => this.close(c)));
  }

  private async close(connection: RedisClient): Promise<void> {
    // Already closed (the flow producer closes its connection itself): disconnect() on an ended
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
