/**
 * A private redis-server for the bench (a spare port, no persistence), so `INFO commandstats` and
 * the server's CPU count only what the bench runs, not other users of the shared Redis.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import IORedis from 'ioredis';

export interface RedisCounters {
  /** used_cpu_user + used_cpu_sys of the server, seconds. */
  cpuSeconds: number;
  /** Calls per command (Lua internals included, as Redis counts them), without INFO itself. */
  calls: Record<string, number>;
}

export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export class PrivateRedis {
  private constructor(
    readonly url: string,
    private readonly child: ChildProcess,
    private readonly admin: IORedis,
  ) {}

  static async start(): Promise<PrivateRedis> {
    const port = await freeTcpPort();
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    process.once('exit', () => child.kill('SIGKILL'));
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${out}`)), 10_000);
      child.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        if (/Ready to accept connections/.test(out)) {
          clearTimeout(timer);
          child.stdout!.removeAllListeners('data');
          child.stdout!.resume();
          resolve();
        }
      });
      child.once('exit', (code) => reject(new Error(`redis-server exited (${code}):\n${out}`)));
    });
    const url = `redis://127.0.0.1:${port}`;
    return new PrivateRedis(url, child, new IORedis(url, { maxRetriesPerRequest: null }));
  }

  get pid(): number {
    return this.child.pid!;
  }

  async counters(): Promise<RedisCounters> {
    const [cpu, stats] = await Promise.all([this.admin.info('cpu'), this.admin.info('commandstats')]);
    const num = (k: string) => Number(new RegExp(`${k}:([\\d.]+)`).exec(cpu)?.[1] ?? 0);
    const calls: Record<string, number> = {};
    for (const m of stats.matchAll(/cmdstat_([^:]+):calls=(\d+)/g)) if (m[1] !== 'info') calls[m[1]] = Number(m[2]);
    return { cpuSeconds: num('used_cpu_user') + num('used_cpu_sys'), calls };
  }

  async flush(): Promise<void> {
    await this.admin.flushall();
    await this.admin.config('RESETSTAT');
  }

  async stop(): Promise<void> {
    await this.admin.quit().catch(() => undefined);
    this.child.kill('SIGTERM');
  }
}

/** Commands between two readings: total and the top `n` by count. */
export function commandDelta(a: RedisCounters, b: RedisCounters, n = 6): { total: number; top: [string, number][] } {
  const delta: [string, number][] = Object.keys(b.calls)
    .map((k): [string, number] => [k, b.calls[k] - (a.calls[k] ?? 0)])
    .filter(([, v]) => v > 0)
    .sort((x, y) => y[1] - x[1]);
  return { total: delta.reduce((s, [, v]) => s + v, 0), top: delta.slice(0, n) };
}
