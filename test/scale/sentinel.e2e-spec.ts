import { RedisSentinelHarness } from '@bridge/common';
import { describeScaleScenarios } from './scale-scenarios';

/**
 * The bridge on a private primary + replica watched by three Sentinels (REDIS_SENTINELS),
 * including a failover of the primary, planned (SENTINEL FAILOVER behind CLIENT PAUSE WRITE) and
 * killed.
 */
describeScaleScenarios('Sentinel (primary, replica, 3 Sentinels)', async () => {
  const sentinel = await RedisSentinelHarness.start();
  return {
    env: { REDIS_URL: '', REDIS_SENTINELS: sentinel.sentinelList, REDIS_SENTINEL_NAME: sentinel.name },
    connect: () => sentinel.connect(),
    failover: (how) => sentinel.failover(how),
    stop: () => sentinel.stop(),
  };
});
