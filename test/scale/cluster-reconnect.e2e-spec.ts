import { RedisClusterHarness, withTimeout } from '@bridge/common';
import { createRedisConnection } from '@bridge/queue';
import type { Cluster } from 'ioredis';

/**
 * A Cluster client that reconnects while its cluster reports `cluster_state:fail` (a shard's
 * primary dead and not yet replaced) must settle `connect()` once it can serve commands.
 * ioredis' ready check (`CLUSTER INFO`) instead reconnects on `fail` and drops the pending
 * `connect()` promise for good (redis/ioredis#709); BullMQ awaits that promise when it resets a
 * worker's blocking connection, so in the killed-failover runs of issue 10 a worker (the relay
 * worker, or a consumer) never fetched again. Both clients the README prescribes are checked: the
 * bridge's (`createRedisConnection`) and the consumers' (`RedisClusterHarness.connect`).
 *
 * The failure is made to last: the shard's primary and its replica are both killed, so nothing
 * can be promoted; a duplicate of the client (as BullMQ makes its blocking connection) connects
 * meanwhile; then both nodes are started again.
 */
describe('a Cluster client reconnecting while the cluster is down', () => {
  let cluster: RedisClusterHarness;

  beforeAll(async () => {
    cluster = await RedisClusterHarness.start({ primaries: 3, replicasEach: 1 });
  }, 60_000);
  afterAll(() => cluster?.stop());

  const clients: Array<[string, () => Cluster]> = [
    ['the bridge', () => createRedisConnection({ mode: 'cluster', nodes: seeds(cluster), auth: {}, tls: false }) as Cluster],
    ['a consumer (README recipe)', () => cluster.connect()],
  ];

  it.each(clients)(
    '%s: connect() settles once the cluster is back, and commands go through',
    async (_name, open) => {
      const client = open();
      client.on('error', () => undefined);
      const opened = [client];
      try {
        await client.set('{reconnect}:k', 'before');
        const { primary, replica } = await cluster.shardOf('{reconnect}');
        await Promise.all([primary.kill(), replica.kill()]);
        const live = cluster.nodes.find((n) => n.running)!;
        await waitFor(async () => String(await live.command('CLUSTER', 'INFO')).includes('cluster_state:fail'), 20_000);

        // What BullMQ does for a worker's blocking connection: a duplicate, connected on demand.
        const fresh = client.duplicate([], { lazyConnect: true });
        fresh.on('error', () => undefined);
        opened.push(fresh);
        let settled = false;
        const connecting = fresh.connect().then(
          () => (settled = true),
          () => (settled = true),
        );
        await Promise.all([primary.start(), replica.start()]);
        await cluster.waitHealthy();
        await withTimeout(connecting, 15_000, 'connect() to settle after the cluster recovered');
        expect(settled).toBe(true);
        await withTimeout(fresh.set('{reconnect}:k', 'after'), 15_000, 'a write after the recovery');
      } finally {
        opened.forEach((c) => c.disconnect());
      }
    },
    120_000,
  );
});

function seeds(cluster: RedisClusterHarness) {
  return cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port }));
}

async function waitFor(probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
