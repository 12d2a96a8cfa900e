/**
 * A redis-server child on a spare loopback port, owned by whoever started it: the chaos run (which
 * kills and restarts it, AOF on so the data survives), tests that take Redis away, and `npm run
 * demo` / `npm test` on a machine where no Redis answers (ensure-redis.ts).
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { freePort } from './free-port';
import { ManagedChild } from './managed-child';

/** One line telling a person how to get redis-server. */
export const REDIS_INSTALL_HINT =
  'Install Redis (apt-get install redis-server, brew install redis) or run one with Docker (docker run -d -p 6379:6379 redis:7), then retry or set REDIS_URL.';

/** The redis-server executable: $REDIS_SERVER_BIN, else the first `redis-server` on PATH; undefined when there is none. */
export function findRedisServer(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = env.REDIS_SERVER_BIN
    ? [env.REDIS_SERVER_BIN]
    : [...(env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/bin', '/usr/local/bin', '/opt/homebrew/bin'].map((d) =>
        join(d, 'redis-server'),
      );
  return candidates.find((file) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export interface PrivateRedisOptions {
  /** Default: a free port. */
  port?: number;
  /** Data directory: AOF on (`appendfsync everysec`) and `redis.log` there, so a restart keeps the data. Default: nothing persisted. */
  dir?: string;
  /** Extra redis-server arguments. */
  args?: string[];
}

/** A private redis-server that can be stopped and started again on the same port. */
export class PrivateRedis extends ManagedChild {
  private constructor(
    readonly port: number,
    options: PrivateRedisOptions,
    command: string,
  ) {
    const persistence = options.dir ? ['--appendonly', 'yes', '--appendfsync', 'everysec', '--dir', options.dir] : ['--appendonly', 'no'];
    super({
      name: `redis:${port}`,
      command,
      // prettier-ignore
      args: [
        '--port', String(port),
        '--bind', '127.0.0.1',
        '--protected-mode', 'no',
        '--save', '',
        ...persistence,
        '--daemonize', 'no',
        '--loglevel', 'notice',
        ...(options.args ?? []),
      ],
      logPath: options.dir ? join(options.dir, 'redis.log') : undefined,
      ready: /Ready to accept connections/,
      readyTimeoutMs: 20_000,
    });
  }

  /** A stopped PrivateRedis (call start()); throws with REDIS_INSTALL_HINT when redis-server is missing. */
  static async create(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
    const command = findRedisServer();
    if (!command) throw new Error(`redis-server not found. ${REDIS_INSTALL_HINT}`);
    return new PrivateRedis(options.port ?? (await freePort()), options, command);
  }

  /** A running PrivateRedis, ready to accept connections. */
  static async start(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
    const redis = await PrivateRedis.create(options);
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts it again on the same port after stop() (the data survives only with `dir`). */
  async restart(): Promise<void> {
    await this.start();
  }
}
