import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** Every child this process started, so that any exit path can kill what is left. */
const LIVE = new Set<ChildProcess>();

/** Kills every child still running (SIGKILL). Synchronous: safe in an `exit` handler. */
export function killAllChildren(): void {
  for (const child of LIVE) {
    try {
      child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
  LIVE.clear();
}

/** A free TCP port on the loopback interface (bound and released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface ChildSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Output of every generation is appended here. */
  logPath: string;
  /** Output that says the child is ready. */
  ready: RegExp;
  readyTimeoutMs?: number;
}

/**
 * A child process that can be killed and started again (same command, same log file). Output
 * goes to the log file and a bounded in-memory tail (for readiness and error messages).
 */
export class ManagedChild {
  private child?: ChildProcess;
  private exited?: Promise<void>;
  private tail = '';
  private readonly log: WriteStream;
  generation = 0;
  /** Set by the owner: extra env for the next start (e.g. a new WORKER_NAME per generation). */
  envFor?: (generation: number) => NodeJS.ProcessEnv;

  constructor(readonly spec: ChildSpec) {
    this.log = createWriteStream(spec.logPath, { flags: 'a' });
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  output(): string {
    return this.tail;
  }

  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.spec.name} is already running`);
    this.generation++;
    this.tail = '';
    const env = { PATH: process.env.PATH, ...this.spec.env, ...(this.envFor?.(this.generation) ?? {}) };
    const child = spawn(this.spec.command, this.spec.args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    LIVE.add(child);
    this.log.write(`\n===== ${this.spec.name} generation ${this.generation} pid ${child.pid} at ${new Date().toISOString()}\n`);
    const listeners = new Set<() => void>();
    const onData = (chunk: Buffer) => {
      this.log.write(chunk);
      this.tail = (this.tail + chunk.toString()).slice(-16_384);
      listeners.forEach((l) => l());
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        LIVE.delete(child);
        this.log.write(`===== ${this.spec.name} generation ${this.generation} exited (${signal ?? code})\n`);
        listeners.forEach((l) => l());
        resolve();
      });
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => fail(new Error(`${this.spec.name} not ready within ${this.spec.readyTimeoutMs ?? 30_000} ms:\n${this.tail.slice(-2000)}`)),
        this.spec.readyTimeoutMs ?? 30_000,
      );
      const check = () => {
        if (this.spec.ready.test(this.tail)) done();
        else if (child.exitCode !== null || child.signalCode !== null) {
          fail(new Error(`${this.spec.name} exited before it was ready (${child.signalCode ?? child.exitCode}):\n${this.tail.slice(-2000)}`));
        }
      };
      const done = () => {
        clearTimeout(timer);
        listeners.delete(check);
        resolve();
      };
      const fail = (e: Error) => {
        clearTimeout(timer);
        listeners.delete(check);
        reject(e);
      };
      listeners.add(check);
      check();
    });
  }

  /**
   * Sends `signal` and waits for the exit; escalates to SIGKILL after `graceMs`. Resolves with
   * how long the exit took (ms).
   */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 30_000): Promise<{ ms: number; escalated: boolean }> {
    const started = Date.now();
    if (!this.running || !this.child) return { ms: 0, escalated: false };
    this.child.kill(signal);
    let escalated = false;
    const timer = setTimeout(() => {
      escalated = true;
      this.child?.kill('SIGKILL');
    }, graceMs);
    await this.exited;
    clearTimeout(timer);
    return { ms: Date.now() - started, escalated };
  }

  async close(): Promise<void> {
    await this.stop('SIGKILL');
    await new Promise<void>((resolve) => this.log.end(resolve));
  }
}

export const REDIS_SERVER = process.env.REDIS_SERVER_BIN ?? '/usr/bin/redis-server';

/** A private redis-server (loopback, spare port, AOF on) that can be stopped and restarted with its data. */
export class PrivateRedis extends ManagedChild {
  constructor(readonly port: number, readonly dir: string) {
    super({
      name: `redis:${port}`,
      command: REDIS_SERVER,
      args: [
        '--port', String(port),
        '--bind', '127.0.0.1',
        '--protected-mode', 'no',
        '--appendonly', 'yes',
        '--appendfsync', 'everysec',
        '--save', '',
        '--dir', dir,
        '--daemonize', 'no',
        '--loglevel', 'notice',
      ],
      logPath: join(dir, 'redis.log'),
      ready: /Ready to accept connections/,
      readyTimeoutMs: 20_000,
    });
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }
}
