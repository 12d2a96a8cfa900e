import { join } from 'node:path';
import { BRIDGE_HEARTBEAT_DEFAULT_SECONDS, ROOT, PREFIX } from './chaos-constants';
import { freePort, ManagedChild, PrivateRedis, sleep } from '@bridge/common';
import type { BridgeBinding } from './sfn-resources';

/**
 * The chaos run's child processes: a private Redis (AOF), the Step Functions emulator and the
 * bridge replicas. Starts them, restarts one after a chaos action, and stops them all at the end.
 */
export class ProcessSupervisor {
  /** In start order: Redis, the emulator, then the bridges. */
  private readonly children: ManagedChild[] = [];
  readonly bridges: ManagedChild[] = [];
  /** Each replica's metrics URL (a fixed port per replica, kept across restarts). */
  readonly metricsUrls: string[] = [];
  private redisChild?: PrivateRedis;

  constructor(
    private readonly dir: string,
    private readonly log: (line: string) => void,
  ) {}

  get redis(): PrivateRedis {
    if (!this.redisChild) throw new Error('redis is not started');
    return this.redisChild;
  }

  async startRedis(): Promise<PrivateRedis> {
    const redis = await PrivateRedis.create({ dir: this.dir });
    this.redisChild = redis;
    this.children.push(redis);
    await redis.start();
    return redis;
  }

  /** Starts sfn-local; resolves with its URL. */
  async startEmulator(): Promise<string> {
    const sfnPort = await freePort();
    const emulator = new ManagedChild({
      name: 'sfn-local',
      command: process.execPath,
      args: [join(ROOT, 'dist/apps/sfn-local/main.js'), '--port', String(sfnPort), '--poll-seconds', '2', '--quiet'],
      logPath: join(this.dir, 'sfn-local.log'),
      ready: /listening on/,
    });
    this.children.push(emulator);
    await emulator.start();
    return `http://127.0.0.1:${sfnPort}`;
  }

  /** Starts `replicas` bridges (all at once); replica i names its worker `chaos-r<i>-g<generation>`. */
  async startBridges(replicas: number, redisUrl: string, sfnUrl: string, bindings: BridgeBinding[]): Promise<ManagedChild[]> {
    for (let i = 0; i < replicas; i++) {
      const port = await freePort();
      this.metricsUrls.push(`http://127.0.0.1:${port}/metrics`);
      const bridge = new ManagedChild({
        name: `bridge-${i}`,
        command: process.execPath,
        args: [join(ROOT, 'dist/apps/bridge/main.js')],
        env: {
          REDIS_URL: redisUrl,
          BULLMQ_PREFIX: PREFIX,
          PORT: String(port),
          AWS_REGION: 'us-east-1',
          AWS_ENDPOINT_URL_SFN: sfnUrl,
          AWS_ACCESS_KEY_ID: 'local',
          AWS_SECRET_ACCESS_KEY: 'local',
          BRIDGE_BINDINGS: JSON.stringify({ bindings }),
          LOG_LEVEL: process.env.CHAOS_BRIDGE_LOG_LEVEL ?? 'info',
          RELAY_BACKOFF_MS: '100',
          RELAY_ATTEMPTS: '12',
          ENQUEUE_RETRY_FOR_MS: '30000',
          SHUTDOWN_DRAIN_TIMEOUT_MS: '10000',
          HEARTBEAT_DEFAULT_SECONDS: String(BRIDGE_HEARTBEAT_DEFAULT_SECONDS),
          HEARTBEAT_RATE_PER_SECOND: '400',
          HEARTBEAT_PROGRESS_MIN_INTERVAL_MS: '1000',
          BULL_BOARD_ENABLED: 'false',
        },
        logPath: join(this.dir, `bridge-${i}.log`),
        ready: /Listening on/,
      });
      bridge.envFor = (generation) => ({ WORKER_NAME: `chaos-r${i}-g${generation}` });
      this.bridges.push(bridge);
      this.children.push(bridge);
    }
    await Promise.all(this.bridges.map((b) => b.start()));
    return this.bridges;
  }

  /** Starts `c` again after a chaos action; up to 3 attempts, 1 s apart. */
  async startWithRetry(c: ManagedChild): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await c.start();
      } catch (err) {
        if (attempt >= 3) throw err;
        this.log(`chaos: restart of ${c.spec.name} failed (${(err as Error).message.split('\n')[0]}); retrying`);
        await sleep(1_000);
      }
    }
  }

  /** Bridges first (graceful, bounded), then the emulator and Redis; then every log file is closed. */
  async stopAll(): Promise<void> {
    const [redisChild, emulatorChild, ...bridgeChildren] = this.children;
    await Promise.allSettled(bridgeChildren.map((b) => b.stop('SIGTERM', 15_000)));
    await Promise.allSettled([emulatorChild, redisChild].filter(Boolean).map((c) => c.stop('SIGTERM', 5_000)));
    await Promise.allSettled(this.children.map((c) => c.close()));
  }
}
