import { join } from 'node:path';
import { BRIDGE_HEARTBEAT_DEFAULT_SECONDS, ROOT } from './chaos-constants';
import { freePort, ManagedChild } from '@bridge/common';
import type { BridgeBinding } from './sfn-resources';
import { startWithRetry } from './start-with-retry';

/** Where the bridges find Redis: their Redis env (see RedisTopology) and the BullMQ prefix. */
export interface BridgeRedis {
  bridgeEnv: Record<string, string>;
  prefix: string;
}

/**
 * The chaos run's node child processes: the Step Functions emulator and the bridge replicas
 * (Redis is the RedisTopology's). Starts them, restarts one after a chaos action, and stops them
 * all at the end.
 */
export class ProcessSupervisor {
  private emulator?: ManagedChild;
  readonly bridges: ManagedChild[] = [];
  /** Each replica's metrics URL (a fixed port per replica, kept across restarts). */
  readonly metricsUrls: string[] = [];

  constructor(
    private readonly dir: string,
    private readonly log: (line: string) => void,
  ) {}

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
    this.emulator = emulator;
    await emulator.start();
    return `http://127.0.0.1:${sfnPort}`;
  }

  /** Starts `replicas` bridges (all at once); replica i names its worker `chaos-r<i>-g<generation>`. */
  async startBridges(replicas: number, redis: BridgeRedis, sfnUrl: string, bindings: BridgeBinding[]): Promise<ManagedChild[]> {
    for (let i = 0; i < replicas; i++) {
      const port = await freePort();
      this.metricsUrls.push(`http://127.0.0.1:${port}/metrics`);
      const bridge = new ManagedChild({
        name: `bridge-${i}`,
        command: process.execPath,
        args: [join(ROOT, 'dist/apps/bridge/main.js')],
        env: {
          ...redis.bridgeEnv,
          BULLMQ_PREFIX: redis.prefix,
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
          // Above the bindings' worst case (sum of maxPending / heartbeatSeconds = 850/s) over the bridge's
          // 60 % headroom, as its start-up check asks: a smaller budget makes every heartbeat late by design.
          HEARTBEAT_RATE_PER_SECOND: '1500',
          HEARTBEAT_PROGRESS_MIN_INTERVAL_MS: '1000',
          BULL_BOARD_ENABLED: 'false',
        },
        logPath: join(this.dir, `bridge-${i}.log`),
        ready: /Listening on/,
      });
      bridge.envFor = (generation) => ({ WORKER_NAME: `chaos-r${i}-g${generation}` });
      this.bridges.push(bridge);
    }
    await Promise.all(this.bridges.map((b) => b.start()));
    return this.bridges;
  }

  /** Starts `c` again after a chaos action; up to 3 attempts, 1 s apart. */
  startWithRetry(c: ManagedChild): Promise<void> {
    return startWithRetry(c, this.log);
  }

  /** Bridges first (graceful, bounded), then the emulator; then every log file is closed (Redis is stopped after, by its topology). */
  async stopAll(): Promise<void> {
    await Promise.allSettled(this.bridges.map((b) => b.stop('SIGTERM', 15_000)));
    if (this.emulator) await this.emulator.stop('SIGTERM', 5_000).catch(() => undefined);
    await Promise.allSettled([...(this.emulator ? [this.emulator] : []), ...this.bridges].map((c) => c.close()));
  }
}
