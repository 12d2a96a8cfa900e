import { PrivateRedis, sleep } from '@bridge/common';
import IORedis from 'ioredis';
import { between } from './random';
import type { RedisDisruption, RedisTopology } from './redis-topology';
import { startWithRetry } from './start-with-retry';

/**
 * `--redis single` (the default): one private redis-server with AOF in the run's directory,
 * stopped (SIGTERM or SIGKILL) and started again by the monkey; the data survives from the AOF.
 */
export class SingleRedisTopology implements RedisTopology {
  readonly mode = 'single';
  readonly prefix = 'chaos';

  private constructor(
    private readonly redis: PrivateRedis,
    private readonly dir: string,
    private readonly log: (line: string) => void,
  ) {}

  static async start(dir: string, log: (line: string) => void): Promise<SingleRedisTopology> {
    const redis = await PrivateRedis.create({ dir });
    const topology = new SingleRedisTopology(redis, dir, log);
    await redis.start();
    return topology;
  }

  get description(): string {
    return `${this.redis.url} (AOF in ${this.dir})`;
  }

  get bridgeEnv(): Record<string, string> {
    return { REDIS_URL: this.redis.url };
  }

  connect(): IORedis {
    const c = new IORedis(this.redis.url, { maxRetriesPerRequest: null, retryStrategy: (n) => Math.min(100 * n, 1_000) });
    c.on('error', () => undefined);
    return c;
  }

  probe(): IORedis {
    return new IORedis(this.redis.url, { maxRetriesPerRequest: 3 });
  }

  status(): string {
    return this.redis.running ? 'up' : 'DOWN';
  }

  async disrupt(action: 'redis-sigterm' | 'redis-sigkill', random: () => number): Promise<RedisDisruption> {
    const at = Date.now();
    await this.redis.stop(action === 'redis-sigkill' ? 'SIGKILL' : 'SIGTERM', 10_000);
    await sleep(between(random, 500, 2_500));
    await startWithRetry(this.redis, this.log);
    const ms = Date.now() - at;
    return { action, target: 'redis', ms, logLine: `${action}: Redis down for ${ms} ms, restarted from AOF` };
  }

  async stop(): Promise<void> {
    await this.redis.stop('SIGTERM', 5_000).catch(() => undefined);
    await this.redis.close();
  }
}
