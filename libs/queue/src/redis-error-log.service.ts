import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { IncidentLog } from '@bridge/common';
import { Queue } from 'bullmq';
import { BINDING_QUEUES, PRODUCER_CONNECTION, PRODUCER_QUEUES, REDIS_CONNECTION } from './queue.constants';
import type { RedisClient } from './redis-connection';
import { RedisStatus } from './redis-status.service';

/** Error codes and messages of a Redis that cannot be reached (not a problem of one queue). */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'EPIPE',
  'ENETUNREACH',
]);
const CONNECTION_MESSAGES = /Connection is closed|connect ETIMEDOUT|Stream isn't writeable|Reached the max retries/i;

export function isConnectionError(err: Error): boolean {
  return CONNECTION_CODES.has((err as NodeJS.ErrnoException).code ?? '') || CONNECTION_MESSAGES.test(err.message ?? '');
}

/**
 * Gives every Redis connection and queue an error listener. Without one, ioredis prints
 * "Unhandled error event" and BullMQ a stack trace on every reconnect attempt. BullMQ queues
 * re-emit their connection's errors too, one per queue per reconnect attempt (40 lines in 12 s for
 * one binding with Redis down at start-up): those go to RedisStatus, which logs the outage once;
 * other queue errors are logged per queue as an incident.
 */
@Injectable()
export class RedisErrorLog implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(RedisErrorLog.name);
  private readonly incidents: IncidentLog[] = [];

  constructor(
    @Inject(REDIS_CONNECTION) private readonly redis: RedisClient,
    @Inject(PRODUCER_CONNECTION) private readonly producerRedis: RedisClient,
    @Inject(BINDING_QUEUES) private readonly queues: Map<string, Queue>,
    @Inject(PRODUCER_QUEUES) private readonly producerQueues: Map<string, Queue>,
    private readonly status: RedisStatus,
  ) {}

  onModuleInit(): void {
    // The shared connection's errors reach RedisStatus directly; the producer's are the same outage.
    this.redis.on('error', () => undefined);
    this.producerRedis.on('error', (err: Error) => this.status.connectionError(err));
    const queues = [
      ...[...this.queues.values()].map((q) => [q, q.name] as const),
      ...[...this.producerQueues.values()].map((q) => [q, `${q.name} (producer)`] as const),
    ];
    for (const [queue, name] of queues) {
      const incident = new IncidentLog(this.logger, `Queue ${name}`);
      this.incidents.push(incident);
      queue.on('error', (err: Error) => {
        if (isConnectionError(err) || !this.status.up) this.status.connectionError(err);
        else incident.failure(err.message || err.name, err.name);
      });
    }
  }

  onModuleDestroy(): void {
    for (const incident of this.incidents) incident.dispose();
  }
}
