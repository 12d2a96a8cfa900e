import IORedis, { RedisOptions } from 'ioredis';

/**
 * One ioredis connection per process for queues and the flow producer (BullMQ duplicates it for
 * each worker's blocking connection). `maxRetriesPerRequest: null` is what BullMQ requires, so a
 * Redis outage makes commands wait for the reconnect instead of failing the job.
 */
export function createRedisConnection(url: string, extra: RedisOptions = {}): IORedis {
  return new IORedis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    // Reconnect quickly after a failover or restart: heartbeat clocks keep running meanwhile.
    retryStrategy: (times) => Math.min(100 * times, 1_000),
    connectionName: 'sfn-bullmq-bridge',
    lazyConnect: false,
    ...extra,
  });
}
