import type { RedisTarget } from '@bridge/config';
import IORedis, { Cluster, ClusterOptions, RedisOptions } from 'ioredis';

/**
 * Every ioredis client the bridge opens is made here, from the configured target: one node
 * (`REDIS_URL`), ioredis' `Cluster` (`REDIS_CLUSTER_NODES`) or ioredis' Sentinel support
 * (`REDIS_SENTINELS`). BullMQ duplicates these for its blocking connections, so the options set
 * here hold for queues, workers, the flow producer, queue events and the board alike.
 *
 * Failover handling is the engines': `MOVED` / `ASK` / `TRYAGAIN` / `CLUSTERDOWN` and a dropped
 * node by ioredis' Cluster (redirect, retry after `retryDelayOn*`, slot refresh); a Sentinel
 * promotion by ioredis' `failoverDetector` (it listens for `+switch-master` and reconnects at
 * once; without it a client stays on the demoted primary until that one drops it, seconds);
 * `READONLY` (a write reached a primary demoted to replica) by `reconnectOnError`, which reconnects
 * to whatever is primary now and resends the refused command.
 */

/** A connection to any of the three targets (both classes have the same command API). */
export type RedisClient = IORedis | Cluster;

export interface RedisConnectionOptions {
  /**
   * false: commands fail at once while disconnected, instead of waiting for the reconnect. On a
   * Cluster it only shortens the retry budget: the Cluster keeps ioredis' offline queue (see
   * clusterOptions) and its owner checks that the Cluster is ready before it writes.
   */
  enableOfflineQueue?: boolean;
}

const CONNECTION_NAME = 'sfn-bullmq-bridge';
/** Cluster: retries of one command through a failover (x 100 ms: about 30 s). */
const RIDE_OUT_REDIRECTIONS = 300;
const RIDE_OUT_DELAY_MS = 100;
/** Reconnect quickly after a failover or restart: heartbeat clocks keep running meanwhile. */
const reconnectDelay = (times: number) => Math.min(100 * times, 1_000);

/** `READONLY You can't write against a read only replica.`: reconnect, then resend the command. */
export function reconnectOnReadOnly(err: Error): 2 | false {
  return err.message.startsWith('READONLY') ? 2 : false;
}

/** Options every data-node connection gets, whatever the mode. */
function nodeOptions(): RedisOptions {
  return {
    // What BullMQ requires: a Redis outage makes commands wait instead of failing the job. On a
    // Cluster this must be set in `redisOptions` (BullMQ checks plain clients only; a Cluster's
    // nodes would silently keep ioredis' 20 retries).
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    connectionName: CONNECTION_NAME,
    reconnectOnError: reconnectOnReadOnly,
  };
}

export function createRedisConnection(target: RedisTarget, opts: RedisConnectionOptions = {}): RedisClient {
  const offline = opts.enableOfflineQueue === undefined ? {} : { enableOfflineQueue: opts.enableOfflineQueue };
  switch (target.mode) {
    case 'standalone':
      return new IORedis(target.url, { ...nodeOptions(), retryStrategy: reconnectDelay, lazyConnect: false, ...offline });
    case 'cluster':
      return new Cluster(target.nodes, clusterOptions(target, offline));
    case 'sentinel':
      return new IORedis({
        ...nodeOptions(),
        ...target.auth,
        sentinels: target.sentinels,
        name: target.name,
        sentinelUsername: target.sentinelAuth.username,
        sentinelPassword: target.sentinelAuth.password,
        failoverDetector: true,
        ...(target.tls ? { tls: {}, enableTLSForSentinelMode: true } : {}),
        ...(target.sentinelTls ? { sentinelTLS: {} } : {}),
        retryStrategy: reconnectDelay,
        sentinelRetryStrategy: reconnectDelay,
        ...offline,
      });
  }
}

function clusterOptions(
  target: Extract<RedisTarget, { mode: 'cluster' }>,
  offline: Pick<ClusterOptions, 'enableOfflineQueue'>,
): ClusterOptions {
  return {
    redisOptions: { ...nodeOptions(), ...target.auth, ...(target.tls ? { tls: {} } : {}) },
    clusterRetryStrategy: reconnectDelay,
    // No `CLUSTER INFO` ready check: when it reports `cluster_state:fail` (a killed primary not yet
    // replaced), ioredis reconnects and never settles the pending `connect()` promise, even once
    // the cluster is ready again (redis/ioredis#709). BullMQ awaits that promise when it resets a
    // worker's blocking connection (and BullMQ's duplicates inherit this option), so a worker never
    // fetched again. Without the check a reconnected Cluster is ready at once and a command for a
    // failed slot rides out `CLUSTERDOWN` (retried every 100 ms within the redirection budget).
    enableReadyCheck: false,
    // Ride out a failover instead of failing the command (the Cluster's counterpart of
    // `maxRetriesPerRequest: null`): every redirection or retry waits 100 ms, MOVED included
    // (after a kill, MOVED points at the dead primary until the replica is promoted), within a
    // budget of about 30 s. A fail-fast connection keeps ioredis' short default budget.
    ...(offline.enableOfflineQueue === false ? {} : { retryDelayOnMoved: RIDE_OUT_DELAY_MS, maxRedirections: RIDE_OUT_REDIRECTIONS }),
    // Keep the node names the cluster reports, so TLS checks the certificate against them
    // (ElastiCache's documented setting for in-transit encryption).
    ...(target.tls ? { dnsLookup: (address: string, callback: (err: null, address: string) => void) => callback(null, address) } : {}),
    // Never `enableOfflineQueue: false` on a Cluster (issue 10): with it, ioredis 6 refuses a
    // pipeline's first command when the node picked for it is still connecting ("Connection is
    // closed.", the guard of redis/ioredis#2096) before it has fixed the pipeline's node, and sends
    // the rest to another node, where they are queued for replies but never written. That node then
    // hands each reply to the wrong command, and a MULTI (a BullMQ flow) is acknowledged with another
    // command's reply although it never ran. The nodes queue offline anyway (ioredis forces it), so
    // the option only ever made commands fail while the whole Cluster was not ready.
  };
}
