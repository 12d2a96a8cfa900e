import { RedisClusterHarness } from '@bridge/common';
import { describeScaleScenarios } from './scale-scenarios';

/**
 * The bridge on a private 3-primary, 3-replica Redis Cluster (REDIS_CLUSTER_NODES, hash-tagged
 * prefix), including a failover of the shard holding the bridge's keys, graceful and killed.
 */
describeScaleScenarios('a Redis Cluster (3 primaries, 3 replicas)', async () => {
  const cluster = await RedisClusterHarness.start();
  // Every key of a test shares its prefix's hash tag; any tagged key finds that shard. The tag
  // is per test (uniquePrefix), so ask for the tag of the failing-over test at failover time.
  return {
    env: { REDIS_URL: '', REDIS_CLUSTER_NODES: cluster.seedNodes },
    connect: () => cluster.connect(),
    failover: (how) => cluster.failover(`{fo-${how}}`, how),
    stop: () => cluster.stop(),
  };
});
