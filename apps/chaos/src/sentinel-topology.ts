import { RedisSentinelHarness } from '@bridge/common';
import type { Redis } from 'ioredis';
import { drawFailoverKind, failoverDisruption, RedisDisruption, RedisTopology } from './redis-topology';

/**
 * `--redis sentinel`: a private primary + replica watched by three Sentinels
 * (RedisSentinelHarness). The monkey's Redis actions fail the primary over (a planned
 * `SENTINEL FAILOVER` behind `CLIENT PAUSE WRITE`, or SIGKILL and the Sentinels' failure
 * detection) and then bring the old primary back as the replica.
 */
export class SentinelTopology implements RedisTopology {
  readonly mode = 'sentinel';
  readonly prefix = 'chaos';

  private constructor(private readonly harness: RedisSentinelHarness) {}

  static async start(): Promise<SentinelTopology> {
    return new SentinelTopology(await RedisSentinelHarness.start());
  }

  get description(): string {
    return `sentinel: primary + 1 replica under 3 Sentinels (${this.harness.sentinelList}), master ${this.harness.name}`;
  }

  get bridgeEnv(): Record<string, string> {
    return { REDIS_URL: '', REDIS_SENTINELS: this.harness.sentinelList, REDIS_SENTINEL_NAME: this.harness.name };
  }

  connect(): Redis {
    const c = this.harness.connect();
    c.on('error', () => undefined); // errors during failovers are expected; commands retry
    return c;
  }

  probe(): Redis {
    return this.connect();
  }

  status(): string {
    const up = this.harness.dataNodes.filter((n) => n.running).length;
    return up === this.harness.dataNodes.length ? 'up' : `${up}/${this.harness.dataNodes.length} data nodes up`;
  }

  async disrupt(_action: 'redis-sigterm' | 'redis-sigkill', random: () => number): Promise<RedisDisruption> {
    const kind = drawFailoverKind(random);
    const at = Date.now();
    const result = await this.harness.failover(kind);
    const rejoinMs = await this.harness.rejoin(result.oldPrimary);
    return failoverDisruption('primary', kind, at, result, rejoinMs);
  }

  async stop(): Promise<void> {
    await this.harness.stop();
  }
}
