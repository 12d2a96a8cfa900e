/**
 * One redis-server (or `redis-server --sentinel`) child on loopback, for the Cluster and Sentinel
 * harnesses: started, awaited until it answers, asked plain commands over a short-lived
 * connection, killed. Every child still running when the process exits is killed, so a test that
 * fails half-way leaves no server behind.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import IORedis from 'ioredis';

const LIVE = new Set<ChildProcess>();
/** How long a started server may take to answer PING. */
const START_TIMEOUT_MS = 15_000;
process.once('exit', () => LIVE.forEach((child) => child.kill('SIGKILL')));

/**
 * A port free on 127.0.0.1 right now (bound and released), chosen below the kernel's ephemeral
 * range. A port the kernel hands out for `listen(0)` comes from that range, so between its release
 * and the server's bind any outgoing connection of any process may take it (seen in CI: a cluster
 * node whose port a busy test's client had taken never answered). Outgoing connections never use
 * a port below the range, so only another listener could take this one.
 */
export async function spareLoopbackPort(): Promise<number> {
  const [low] = ephemeralRange();
  const from = Math.max(1_024, low - 12_000);
  for (let tries = 0; ; tries++) {
    const port = from + Math.floor(Math.random() * (low - from));
    try {
      return await bindAndRelease(port);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || tries >= 50) throw err;
    }
  }
}

/** The kernel's ephemeral port range (Linux); the usual default elsewhere. */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low > 2_048 && high >= low) return [low, high];
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return [32_768, 60_999];
}

function bindAndRelease(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(port)));
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
    const deadline = Date.now() + START_TIMEOUT_MS;
    let lastError = '';
    for (;;) {
      // One that exited (its port taken, a bad argument) fails at once, with what it said.
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(
          `${this.label} exited (${child.exitCode ?? child.signalCode}) before it answered PING; its output:\n${this.output}`,
        );
      }
      try {
        // Its own answer only: one that failed to bind may still see another server's PONG.
        if ((await this.command('PING')) === 'PONG' && this.running) return;
      } catch (err) {
        lastError = (err as Error).message;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `${this.label} did not answer PING within ${START_TIMEOUT_MS} ms (last error: ${lastError}); its output:\n${this.output}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** One command over a fresh connection (no retries: a dead node fails at once, a silent one within 5 s). */
  async command(...args: (string | number)[]): Promise<unknown> {
    const client = new IORedis({
      host: '127.0.0.1',
      port: this.port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
      // Loopback: a server that takes longer is not answering (or is not a Redis at all).
      connectTimeout: 2_000,
      commandTimeout: 5_000,
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
