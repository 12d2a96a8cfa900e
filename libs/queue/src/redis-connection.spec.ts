import type { Cluster } from 'ioredis';
import { spareLoopbackPort } from '@bridge/common';
import { createRedisConnection } from './redis-connection';

// The Cluster options that keep BullMQ workers fetching through a killed failover (issue 10):
// no ready check, on the bridge's connections and on every duplicate BullMQ makes of them.
describe('createRedisConnection (cluster mode)', () => {
  it.each([undefined, false])('turns off the Cluster ready check (enableOfflineQueue %s), duplicates included', async (offline) => {
    const port = await spareLoopbackPort(); // nothing listens: the client only retries
    const client = createRedisConnection(
      { mode: 'cluster', nodes: [{ host: '127.0.0.1', port }], auth: {}, tls: false },
      offline === undefined ? {} : { enableOfflineQueue: offline },
    ) as Cluster;
    client.on('error', () => undefined);
    const duplicate = client.duplicate([], { lazyConnect: true });
    try {
      expect({ client: client.options.enableReadyCheck, duplicate: duplicate.options.enableReadyCheck }).toEqual({
        client: false,
        duplicate: false,
      });
      // The node connections keep their own (PING-level) ready check.
      expect(client.options.redisOptions?.enableReadyCheck).toBe(true);
      // Never without the Cluster's offline queue (issue 10: ioredis then splits a MULTI across
      // nodes); a fail-fast connection only keeps ioredis' short redirection budget.
      expect({ offlineQueue: client.options.enableOfflineQueue, redirections: client.options.maxRedirections }).toEqual({
        offlineQueue: true,
        redirections: offline === false ? 16 : 300,
      });
    } finally {
      client.disconnect();
      duplicate.disconnect();
    }
  });
});
