import { RELAY_QUEUE_NAME } from '@bridge/config';

/**
 * Queues the bridge itself owns (binding queues come from the bindings file). The relay queue's
 * name is written once, in libs/config (which refuses bindings on it and cannot import this lib).
 */
export const BridgeQueue = {
  /** Parent jobs of every task flow: they hold the token and become ready when the child ends. */
  Relay: RELAY_QUEUE_NAME,
} as const;

/** Job names on the relay queue. */
export enum RelayJobName {
  Relay = 'relay',
}

/** DI token of the shared ioredis connection (queues, flow producer, heartbeat coordination). */
export const REDIS_CONNECTION = Symbol('REDIS_CONNECTION');
/** DI token of the flow producer's own connection (writes fail fast: no offline queue, or on a Cluster the producer's status check). */
export const PRODUCER_CONNECTION = Symbol('PRODUCER_CONNECTION');
/** DI token of `Map<queueName, Queue>` holding a Queue for every binding queue. */
export const BINDING_QUEUES = Symbol('BINDING_QUEUES');
