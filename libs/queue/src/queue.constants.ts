/** DI token of the shared ioredis connection (queues, heartbeat coordination, the relay). */
export const REDIS_CONNECTION = Symbol('REDIS_CONNECTION');
/** DI token of the producer's own connection (writes fail fast: no offline queue, or on a Cluster the producer's status check). */
export const PRODUCER_CONNECTION = Symbol('PRODUCER_CONNECTION');
/** DI token of `Map<queueName, Queue>` holding a Queue for every binding queue (shared connection). */
export const BINDING_QUEUES = Symbol('BINDING_QUEUES');
/** DI token of `Map<queueName, Queue>`: the same queues on the producer's connection, for adding task jobs. */
export const PRODUCER_QUEUES = Symbol('PRODUCER_QUEUES');
