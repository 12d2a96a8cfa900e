import { ClusterTopology } from './cluster-topology';
import type { RedisMode, RedisTopology } from './redis-topology';
import { SentinelTopology } from './sentinel-topology';
import { SingleRedisTopology } from './single-redis-topology';

/** Starts the run's Redis of the `--redis` mode (the one place that knows the three). */
export function startRedisTopology(mode: RedisMode, dir: string, log: (line: string) => void): Promise<RedisTopology> {
  switch (mode) {
    case 'single':
      return SingleRedisTopology.start(dir, log);
    case 'cluster':
      return ClusterTopology.start();
    case 'sentinel':
      return SentinelTopology.start();
  }
}
