/** Jest globalTeardown: stops the private redis-server global-setup.ts started, if it started one. */
export default async function globalTeardown(): Promise<void> {
  const redis = globalThis.__BRIDGE_TEST_REDIS__;
  globalThis.__BRIDGE_TEST_REDIS__ = undefined;
  await redis?.stop();
}
