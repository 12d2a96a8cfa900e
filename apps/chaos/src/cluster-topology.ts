import { RedisClusterHarness } from '@bridge/common';
import type { Cluster } from 'ioredis';
import { drawFailoverKind, failoverDisruption, RedisDisruption, RedisTopology } from './redis-topology';

/**
 * `--redis cluster`: a private 3-primary x 1-replica Redis Cluster (RedisClusterHarness). The
 * prefix is hash-tagged, so every key of the run lives on one shard; the monkey's Redis actions
 * fail that shard's primary over (graceful `CLUSTER FAILOVER`, or SIGKILL and the cluster's own
 * failure detection) and then bring the old primary back as its replica.
 */
export class ClusterTopology implements RedisTopology {
  readonly mode = 'cluster';
  readonly prefix = '{chaos}';

  private constructor(private readonly harness: RedisClusterHarness) {}

  static async start(): Promise<ClusterTopology> {
    return new ClusterTopology(await RedisClusterHarness.start({ primaries: 3, replicasEach: 1 }));
  }

  get description(): string {
    return `cluster of 3 primaries x 1 replica (${this.harness.seedNodes}), prefix ${this.prefix}`;
  }

  get bridgeEnv(): Record<string, string> {
    return { REDIS_URL: '', REDIS_CLUSTER_NODES: this.harness.seedNodes };
  }

  connect(): Cluster {
    const c = this.harness.connect();
    c.on('error', () => undefined); // node errors during failovers are expected; commands retry
    return c;
  }

  probe(): Cluster {
    return this.connect();
  }

  status(): string {
    const up = this.harness.nodes.filter((n) => n.running).length;
    return up === this.harness.nodes.length ? 'up' : `${up}/${this.harness.nodes.length} nodes up`;
  }

  async disrupt(_action: 'redis-sigterm' | 'redis-sigkill', random: () => number): Promise<RedisDisruption> {
    const kind = drawFailoverKind(random);
    const at = Date.now();
    const result = await this.harness.failover(this.prefix, kind);
    const rejoinMs = await this.harness.rejoin(result.oldPrimary);
    return failoverDisruption(`shard ${this.prefix}`, kind, at, result, rejoinMs);
  }

  async stop(): Promise<void> {
    await this.harness.stop();
  }
}
