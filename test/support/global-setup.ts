/**
 * Jest globalSetup: the suite's Redis. REDIS_URL (default 127.0.0.1:6379) when it answers; else a
 * private redis-server on a spare port, whose URL is exported as REDIS_URL to every test worker
 * (test/support/redis.ts reads it) and which global-teardown.ts stops; else one line saying how to
 * get Redis. Relative import: jest's moduleNameMapper does not apply to globalSetup.
 */
// eslint-disable-next-line no-restricted-imports -- jest's moduleNameMapper does not apply to globalSetup
import { DEFAULT_REDIS_URL, ensureRedis, EnsuredRedis, NoRedisError, redactRedisUrl } from '../../libs/common/src';

declare global {
  // Handed from setup to teardown (both run in jest's parent process).
  var __BRIDGE_TEST_REDIS__: EnsuredRedis | undefined;
}

export default async function globalSetup(): Promise<void> {
  const wanted = process.env.REDIS_URL || DEFAULT_REDIS_URL;
  let redis: EnsuredRedis;
  try {
    redis = await ensureRedis(wanted);
  } catch (err) {
    if (!(err instanceof NoRedisError)) throw err;
    const oneLine = new Error(`npm test: ${err.message}`);
    oneLine.stack = oneLine.message; // the line, not a stack trace
    throw oneLine;
  }
  globalThis.__BRIDGE_TEST_REDIS__ = redis;
  process.env.REDIS_URL = redis.url;
  if (redis.started) {
    process.stderr.write(
      `\nnpm test: no Redis answers at ${redactRedisUrl(wanted)}; using a private redis-server at ${redis.url} (stopped after the run)\n`,
    );
  }
}
