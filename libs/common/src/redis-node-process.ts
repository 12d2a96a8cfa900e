/**
 * One redis-server (or `redis-server --sentinel`) child on loopback, for the Cluster and Sentinel
 * harnesses: started, awaited until it answers, asked plain commands over a short-lived
 * connection, killed. Every child still running when the process exits is killed, so a test that
 * fails half-way leaves no server behind.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import IORedis from 'ioredis';

const LIVE = new Set<ChildProcess>();
process.once('exit', () => LIVE.forEach((child) => child.kill('SIGKILL')));

/** A port free on 127.0.0.1 right now (bound and released). */
export function spareLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Polls `probe` until truthy; throws naming `what` and the last probe error after `timeoutMs`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      lastError = ` (last error: ${(err as Error).message})`;
    }
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${lastError}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `INFO <section>` as a key -> value map. */
export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) out[line.slice(0, colon)] = line.slice(colon + 1).trim();
  }
  return out;
}

export class RedisNodeProcess {
  private child?: ChildProcess;
  private output = '';

  constructor(
    readonly port: number,
    private readonly args: string[],
    readonly label = `redis:${port}`,
  ) {}

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * Spawns the server (again, after a kill: same port and files) and waits until it answers PING.
   * `extraArgs` come after the constructor's, so they win (e.g. `--replicaof` on a restart).
   */
  async start(extraArgs: string[] = []): Promise<void> {
    const child = spawn('redis-server', [...this.args, ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    LIVE.add(child);
    const keep = (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-4000));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.once('exit', () => LIVE.delete(child));
    await until(
      `${this.label} to answer PING\n${this.output}`,
      async () => this.running && (await this.command('PING')) === 'PONG',
      15_000,
    );
  }

  /** One command over a fresh connection (no retries: a dead node fails at once). */
  async command(...args: (string | number)[]): Promise<unknown> {
    const client = new IORedis({
      host: '127.0.0.1',
      port: this.port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return await client.call(String(args[0]), ...args.slice(1).map(String));
    } finally {
      client.disconnect();
    }
  }

  async info(section: string): Promise<Record<string, string>> {
    return parseInfo(String(await this.command('INFO', section)));
  }

  /** SIGKILL (no shutdown, no last save): what a crashed host looks like to its clients. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }

  lastOutput(): string {
    return this.output;
  }
}
