/**
 * A private Sentinel setup on loopback: a primary, one replica and three Sentinels
 * (`redis-server --sentinel`, quorum 2), for tests (and later `npm run chaos`) to run the bridge on
 * and to fail over: a planned `SENTINEL FAILOVER` (writes paused on the old primary first, as the
 * README tells operators to do) or a killed primary.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import IORedis from 'ioredis';
import { RedisNodeProcess, spareLoopbackPort, until } from './redis-node-process';

export const SENTINEL_MASTER_NAME = 'bridge-primary';
/** Short enough for a failover within seconds, long enough for a busy 2-core machine. */
const DOWN_AFTER_MS = 2_000;
/**
 * How long writes stay paused on the old primary during a planned failover: longer than the
 * promotion takes (about half a second here). Sentinel demotes the old primary only once the
 * pause is over (its reconfiguration waits behind it too); clients with `failoverDetector` have
 * left for the new primary by then, so the writes the pause held back are resent there.
 */
const PAUSE_MS = 3_000;

export class RedisSentinelHarness {
  private constructor(
    readonly dataNodes: RedisNodeProcess[],
    readonly sentinels: RedisNodeProcess[],
    private readonly dir: string,
  ) {}

  /** The Sentinels in `REDIS_SENTINELS` form. */
  get sentinelList(): string {
    return this.sentinels.map((s) => `127.0.0.1:${s.port}`).join(',');
  }

  get name(): string {
    return SENTINEL_MASTER_NAME;
  }

  static async start(): Promise<RedisSentinelHarness> {
    const dir = mkdtempSync(join(tmpdir(), 'sbb-sentinel-'));
    const dataNodes: RedisNodeProcess[] = [];
    const sentinels: RedisNodeProcess[] = [];
    const harness = new RedisSentinelHarness(dataNodes, sentinels, dir);
    try {
      const base = ['--bind', '127.0.0.1', '--protected-mode', 'no', '--save', '', '--appendonly', 'no', '--dir', dir];
      const primaryPort = await spareLoopbackPort();
      dataNodes.push(new RedisNodeProcess(primaryPort, ['--port', String(primaryPort), ...base], `primary ${primaryPort}`));
      const replicaPort = await spareLoopbackPort();
      dataNodes.push(
        new RedisNodeProcess(
          replicaPort,
          ['--port', String(replicaPort), '--replicaof', '127.0.0.1', String(primaryPort), ...base],
          `replica ${replicaPort}`,
        ),
      );
      await Promise.all(dataNodes.map((n) => n.start()));
      for (let i = 0; i < 3; i++) {
        const port = await spareLoopbackPort();
        const conf = join(dir, `sentinel-${port}.conf`);
        // Sentinel rewrites its config file (what it learned), so each gets its own.
        writeFileSync(
          conf,
          [
            `port ${port}`,
            'bind 127.0.0.1',
            'protected-mode no',
            `dir ${dir}`,
            `sentinel monitor ${SENTINEL_MASTER_NAME} 127.0.0.1 ${primaryPort} 2`,
            `sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} ${DOWN_AFTER_MS}`,
            `sentinel failover-timeout ${SENTINEL_MASTER_NAME} 10000`,
            `sentinel parallel-syncs ${SENTINEL_MASTER_NAME} 1`,
            '',
          ].join('\n'),
        );
        sentinels.push(new RedisNodeProcess(port, [conf, '--sentinel'], `sentinel ${port}`));
      }
      await Promise.all(sentinels.map((s) => s.start()));
      await harness.waitSettled(primaryPort, true);
    } catch (err) {
      await harness.stop();
      throw err;
    }
    return harness;
  }

  /** A client as a consumer would open one (what BullMQ needs, following promotions at once). */
  connect(): IORedis {
    return new IORedis({
      sentinels: this.sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })),
      name: SENTINEL_MASTER_NAME,
      maxRetriesPerRequest: null,
      failoverDetector: true,
      reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 2 : false),
    });
  }

  /** The data node every Sentinel names as primary now. */
  async primary(): Promise<RedisNodeProcess> {
    const [, port] = (await this.sentinels
      .find((s) => s.running)!
      .command('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_MASTER_NAME)) as string[];
    return this.byPort(Number(port));
  }

  /**
   * Fails the primary over to the replica. `graceful`: `CLIENT PAUSE <ms> WRITE` on the primary,
   * wait until the replica has every write, then `SENTINEL FAILOVER` (without the pause the old
   * primary keeps taking writes until Sentinel demotes it, and those are lost). `kill`: the same
   * pause and catch-up, then SIGKILL, and the Sentinels' failure detection promotes the replica
   * (a dead primary without the lost-write case, which no client can prevent). Resolves once every
   * Sentinel names the new primary and it is one (the old one, if alive, is demoted ~10 s later:
   * Sentinel's own delay; the writes paused on it meanwhile are resent by clients that moved).
   */
  async failover(how: 'graceful' | 'kill'): Promise<{ oldPrimary: number; newPrimary: number; ms: number }> {
    const started = Date.now();
    const old = await this.primary();
    const next = this.dataNodes.find((n) => n !== old && n.running);
    if (!next) throw new Error('no live replica to fail over to');
    // A primary demoted by an earlier failover may still be joining as replica (Sentinel demotes ~10 s after).
    await until(
      `replica ${next.port} to replicate ${old.port}`,
      async () => (await next.info('replication')).master_link_status === 'up',
      30_000,
    );
    await old.command('CLIENT', 'PAUSE', PAUSE_MS, 'WRITE');
    await until(`replica ${next.port} to catch up with ${old.port}`, async () => {
      const [p, r] = [await old.info('replication'), await next.info('replication')];
      return p.master_repl_offset === r.slave_repl_offset && r.master_link_status === 'up';
    });
    if (how === 'graceful') await this.sentinels[0].command('SENTINEL', 'FAILOVER', SENTINEL_MASTER_NAME);
    else await old.kill();
    await this.waitSettled(next.port);
    return { oldPrimary: old.port, newPrimary: next.port, ms: Date.now() - started };
  }

  /**
   * Brings the data node on `port` back as a replica after a failover: a killed one is started
   * again as replica of the current primary, a live one (demoted ~10 s after a planned failover)
   * is waited for. Resolves with the ms it took, once it replicates and every Sentinel lists it as
   * a healthy replica, so a later failover has a replica to promote.
   */
  async rejoin(port: number): Promise<number> {
    const started = Date.now();
    const node = this.byPort(port);
    if (!node.running) {
      const primary = await this.primary();
      await node.start(['--replicaof', '127.0.0.1', String(primary.port)]);
    }
    await until(
      `data node ${port} to be a replica in sync and known healthy to every Sentinel`,
      async () => {
        const r = await node.info('replication');
        if (r.role !== 'slave' || r.master_link_status !== 'up') return false;
        for (const s of this.sentinels) {
          const rows = (await s.command('SENTINEL', 'REPLICAS', SENTINEL_MASTER_NAME)) as string[][];
          const row = rows.map(fieldsOf).find((f) => f.port === String(port));
          if (!row || row.flags !== 'slave' || row['master-link-status'] !== 'ok') return false;
        }
        return true;
      },
      40_000,
    );
    return Date.now() - started;
  }

  /** Kills every server and deletes their files. */
  async stop(): Promise<void> {
    await Promise.all([...this.sentinels, ...this.dataNodes].map((n) => n.kill()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  /**
   * Every Sentinel names `primaryPort` and knows the other two, and the primary is one; at start,
   * its replica is in sync too (after a failover the old primary joins later).
   */
  private async waitSettled(primaryPort: number, replicasInSync = false): Promise<void> {
    const others = replicasInSync ? this.dataNodes.filter((n) => n.port !== primaryPort && n.running) : [];
    await until(
      `every Sentinel to name ${primaryPort} as primary and to know each other`,
      async () => {
        for (const s of this.sentinels) {
          const [, port] = (await s.command('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_MASTER_NAME)) as string[];
          if (Number(port) !== primaryPort) return false;
          if (((await s.command('SENTINEL', 'SENTINELS', SENTINEL_MASTER_NAME)) as unknown[]).length < 2) return false;
        }
        if ((await this.byPort(primaryPort).info('replication')).role !== 'master') return false;
        for (const r of others) if ((await r.info('replication')).master_link_status !== 'up') return false;
        return true;
      },
      40_000,
    );
  }

  private byPort(port: number): RedisNodeProcess {
    const node = this.dataNodes.find((n) => n.port === port);
    if (!node) throw new Error(`no data node on port ${port}`);
    return node;
  }
}

/** A Sentinel reply row (`[field, value, field, value, ...]`) as a map. */
function fieldsOf(row: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < row.length; i += 2) out[row[i]] = row[i + 1];
  return out;
}
