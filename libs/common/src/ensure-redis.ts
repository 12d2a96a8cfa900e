/**
 * "The two commands on a fresh machine": `npm run demo` and `npm test` use the Redis at REDIS_URL
 * when it answers, else start a private redis-server on a spare port (and stop it after), else
 * say in one line how to get one.
 */
import IORedis from 'ioredis';
import { findRedisServer, PrivateRedis, REDIS_INSTALL_HINT } from './private-redis';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** Does a Redis at `url` answer PING within `timeoutMs`? One connection attempt, no retries. */
export async function redisAnswers(url: string, timeoutMs = 2_000): Promise<boolean> {
  const client = new IORedis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

export interface EnsuredRedis {
  url: string;
  /** The private server started for this run, if one was. */
  started?: PrivateRedis;
  /** Stops the private server (no-op when the given Redis was used). */
  stop(): Promise<void>;
}

/** Thrown when no Redis answers and none can be started: its message is the one line to print. */
export class NoRedisError extends Error {
  override name = 'NoRedisError';
}

/**
 * The Redis to use: `url` (default 127.0.0.1:6379) if it answers; else, when redis-server is
 * installed, a private one on a spare loopback port, nothing persisted (the caller says so and
 * stops it); else a NoRedisError whose message says how to get Redis.
 */
export async function ensureRedis(url: string | undefined): Promise<EnsuredRedis> {
  const wanted = url || DEFAULT_REDIS_URL;
  if (await redisAnswers(wanted)) return { url: wanted, stop: async () => undefined };
  const where = redactRedisUrl(wanted);
  if (!findRedisServer()) throw new NoRedisError(`No Redis answers at ${where} and redis-server is not installed. ${REDIS_INSTALL_HINT}`);
  const started = await PrivateRedis.start();
  return { url: started.url, started, stop: async () => void (await started.stop('SIGTERM', 10_000)) };
}

/** `url` without its password, for messages (`redis://user:***@host`, `redis://***@host`). */
export function redactRedisUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, (_, auth: string) => `//${auth.includes(':') ? auth.split(':')[0] + ':***' : '***'}@`);
}
