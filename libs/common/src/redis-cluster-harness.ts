/**
 * A private Redis Cluster of 3 primaries and 3 replicas on loopback, made the way an operator
 * would (`redis-server --cluster-enabled yes` x6, then `redis-cli --cluster create
 * --cluster-replicas 1`), for tests (and later `npm run chaos`) to run the bridge on and to fail
 * over: gracefully (`CLUSTER FAILOVER` on the replica) or by killing the primary.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster } from 'ioredis';
import { RedisNodeProcess, spareLoopbackPort, until } from './redis-node-process';

const run = promisify(execFile);
/** Short enough that a killed primary is replaced within seconds, long enough for a busy 2-core machine. */
const NODE_TIMEOUT_MS = 2_000;

interface NodeRow {
  id: string;
  port: number;
  role: 'master' | 'slave';
  masterId?: string;
  failed: boolean;
  slots: string[];
}

export class RedisClusterHarness {
  private constructor(
    readonly nodes: RedisNodeProcess[],
    private readonly dir: string,
  ) {}

  /** The seed list in `REDIS_CLUSTER_NODES` form. */
  get seedNodes(): string {
    return this.nodes.map((n) => `127.0.0.1:${n.port}`).join(',');
  }

  static async start(size = { primaries: 3, replicasEach: 1 }): Promise<RedisClusterHarness> {
    const dir = mkdtempSync(join(tmpdir(), 'sbb-cluster-'));
    const nodes: RedisNodeProcess[] = [];
    const harness = new RedisClusterHarness(nodes, dir);
    try {
      const count = size.primaries * (1 + size.replicasEach);
      for (let i = 0; i < count; i++) {
        // The bus port is port + 10000 unless cluster-port is set: set it, to a port known free.
        const [port, busPort] = [await spareLoopbackPort(), await spareLoopbackPort()];
        nodes.push(
          new RedisNodeProcess(
            port,
            [
              '--port',
              String(port),
              '--cluster-port',
              String(busPort),
              '--bind',
              '127.0.0.1',
              '--protected-mode',
              'no',
              '--cluster-enabled',
              'yes',
              '--cluster-config-file',
              join(dir, `nodes-${port}.conf`),
              '--cluster-node-timeout',
              String(NODE_TIMEOUT_MS),
              '--dir',
              dir,
              '--save',
              '',
              '--appendonly',
              'no',
            ],
            `cluster node ${port}`,
          ),
        );
      }
      await Promise.all(nodes.map((n) => n.start()));
      await run(
        'redis-cli',
        [
          '--cluster',
          'create',
          ...nodes.map((n) => `127.0.0.1:${n.port}`),
          '--cluster-replicas',
          String(size.replicasEach),
          '--cluster-yes',
        ],
        {
          timeout: 60_000,
        },
      );
      await harness.waitHealthy();
    } catch (err) {
      await harness.stop();
      throw err;
    }
    return harness;
  }

  /**
   * A client as the README tells consumers to open one: what BullMQ needs on a Cluster, and
   * commands that wait through a failover (100 ms per retry, about 30 s) instead of failing, and
   * no ready check (with one, a reconnect during a killed failover can leave a BullMQ worker
   * waiting forever on `connect()`: redis/ioredis#709).
   */
  connect(): Cluster {
    return new Cluster(
      this.nodes.filter((n) => n.running).map((n) => ({ host: '127.0.0.1', port: n.port })),
      { redisOptions: { maxRetriesPerRequest: null }, retryDelayOnMoved: 100, maxRedirections: 300, enableReadyCheck: false },
    );
  }

  /** The primary serving `key`'s slot and its replica. */
  async shardOf(key: string): Promise<{ primary: RedisNodeProcess; replica: RedisNodeProcess }> {
    const live = this.nodes.find((n) => n.running)!;
    const slot = Number(await live.command('CLUSTER', 'KEYSLOT', key));
    const rows = await this.topology();
    const primary = rows.find((r) => r.role === 'master' && !r.failed && r.slots.some((range) => inRange(range, slot)));
    const replica = primary && rows.find((r) => r.role === 'slave' && r.masterId === primary.id && !r.failed);
    if (!primary || !replica) throw new Error(`no primary with a live replica for slot ${slot}: ${JSON.stringify(rows)}`);
    return { primary: this.byPort(primary.port), replica: this.byPort(replica.port) };
  }

  /**
   * Fails over the shard serving `key`. `graceful`: `CLUSTER FAILOVER` on its replica (the primary
   * stops writes until the replica caught up, so nothing is lost). `kill`: the primary first
   * stops writes (`CLIENT PAUSE WRITE`) until its replica has every write, then is SIGKILLed and
   * the cluster's failure detection promotes the replica (so the test sees a dead primary without
   * the lost-write case, which no client can prevent). Resolves once the cluster is healthy again.
   */
  async failover(key: string, how: 'graceful' | 'kill'): Promise<{ oldPrimary: number; newPrimary: number; ms: number }> {
    const started = Date.now();
    const { primary, replica } = await this.shardOf(key);
    if (how === 'graceful') {
      await replica.command('CLUSTER', 'FAILOVER');
    } else {
      await primary.command('CLIENT', 'PAUSE', 10_000, 'WRITE');
      await until(`replica ${replica.port} to catch up with ${primary.port}`, async () => {
        const [p, r] = [await primary.info('replication'), await replica.info('replication')];
        return p.master_repl_offset === r.slave_repl_offset && r.master_link_status === 'up';
      });
      await primary.kill();
    }
    await until(`replica ${replica.port} to be primary`, async () => (await replica.info('replication')).role === 'master', 30_000);
    await this.waitHealthy();
    if (how === 'graceful') await primary.command('CLIENT', 'UNPAUSE').catch(() => undefined);
    return { oldPrimary: primary.port, newPrimary: replica.port, ms: Date.now() - started };
  }

  /**
   * Brings the node on `port` back as a replica after a failover: a killed one is started again
   * (its nodes.conf still names it primary of its old slots; the cluster's newer epoch turns it
   * into a replica of whoever holds them now, and it syncs from empty), a demoted one is waited
   * for. Resolves with the ms it took, once it is an in-sync replica and the cluster is healthy,
   * so a later failover of that shard finds a replica to promote.
   */
  async rejoin(port: number): Promise<number> {
    const started = Date.now();
    const node = this.byPort(port);
    if (!node.running) await node.start();
    await until(
      `node ${port} to be an in-sync replica again`,
      async () => {
        const r = await node.info('replication');
        return r.role === 'slave' && r.master_link_status === 'up';
      },
      30_000,
    );
    await this.waitHealthy();
    return Date.now() - started;
  }

  /** Every live node reports `cluster_state:ok`, and every live replica is in sync with its primary. */
  async waitHealthy(timeoutMs = 30_000): Promise<void> {
    await until(
      'every live cluster node to report cluster_state:ok and every replica link up',
      async () => {
        for (const n of this.nodes.filter((x) => x.running)) {
          if (!String(await n.command('CLUSTER', 'INFO')).includes('cluster_state:ok')) return false;
          const replication = await n.info('replication');
          if (replication.role === 'slave' && replication.master_link_status !== 'up') return false;
          // Its view settled too: no live primary without slots (one demoted a moment ago).
          const live = new Set(this.nodes.filter((x) => x.running).map((x) => x.port));
          if ((await this.topology(n)).some((r) => live.has(r.port) && r.role === 'master' && r.slots.length === 0)) return false;
        }
        return true;
      },
      timeoutMs,
    );
  }

  /** Kills every node and deletes their files. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private byPort(port: number): RedisNodeProcess {
    const node = this.nodes.find((n) => n.port === port);
    if (!node) throw new Error(`no cluster node on port ${port}`);
    return node;
  }

  private async topology(seenBy = this.nodes.find((n) => n.running)!): Promise<NodeRow[]> {
    return String(await seenBy.command('CLUSTER', 'NODES'))
      .trim()
      .split('\n')
      .map((line) => {
        const [id, addr, flags, master, , , , , ...slots] = line.split(' ');
        return {
          id,
          port: Number(addr.split('@')[0].split(':').pop()),
          role: flags.includes('master') ? 'master' : 'slave',
          masterId: master === '-' ? undefined : master,
          failed: flags.includes('fail'),
          slots,
        } as NodeRow;
      });
  }
}

function inRange(range: string, slot: number): boolean {
  if (range.startsWith('[')) return false; // a slot being migrated
  const [from, to = from] = range.split('-').map(Number);
  return slot >= from && slot <= to;
}
