import { DemoError } from './demo-error';
import { ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const TAIL_LINES = 200;

export interface ChildSpec {
  /** Short name, used as the `[name] ` prefix of its lines. */
  name: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/**
 * One child process run with `node`: its output kept (last lines) and forwarded line by line,
 * its exit observed, and a stop that escalates SIGTERM -> SIGKILL.
 *
 * Children get their own process group (`detached`), so a Ctrl-C in the terminal reaches only the
 * demo, which then stops them in order (worker, bridge, emulator) instead of all at once.
 */
export class ManagedChild {
  readonly name: string;
  private readonly proc: ChildProcess;
  private readonly tail: string[] = [];
  private readonly lineListeners = new Set<(line: string) => void>();
  private stopRequested = false;
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  readonly exited: Promise<void>;

  constructor(spec: ChildSpec, onLine: (child: ManagedChild, line: string) => void) {
    this.name = spec.name;
    this.proc = spawn(process.execPath, spec.args, {
      cwd: spec.cwd,
      env: spec.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.exited = new Promise((resolve) => {
      this.proc.once('exit', (code, signal) => {
        this.exitCode = code;
        this.exitSignal = signal;
        resolve();
      });
      // A spawn failure (e.g. ENOENT) emits 'error' and may never emit 'exit'.
      this.proc.once('error', (err) => {
        this.push(`spawn failed: ${err.message}`);
        this.exitCode ??= -1;
        resolve();
      });
    });
    for (const stream of [this.proc.stdout!, this.proc.stderr!]) {
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
        this.push(line);
        onLine(this, line);
      });
    }
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get running(): boolean {
    return this.exitCode === null && this.exitSignal === null;
  }

  /** True once stop() was called: an exit after that is expected. */
  get stopping(): boolean {
    return this.stopRequested;
  }

  lastLines(n: number): string[] {
    return this.tail.slice(-n);
  }

  describeExit(): string {
    return this.exitSignal ? `signal ${this.exitSignal}` : `code ${this.exitCode}`;
  }

  /** Resolves with the first match of `pattern` in a line; rejects on exit or after `timeoutMs`. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    const seen = this.tail.map((l) => l.match(pattern)).find(Boolean);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.lineListeners.delete(check);
      };
      const check = (line: string) => {
        const m = line.match(pattern);
        if (m) (done(), resolve(m));
      };
      const timer = setTimeout(() => (done(), reject(new DemoError(`${this.name}: no line matching ${pattern} within ${timeoutMs} ms`))), timeoutMs);
      this.lineListeners.add(check);
      this.exited.then(() => (done(), reject(new DemoError(`${this.name} exited (${this.describeExit()}) before it was ready`))));
    });
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  async stop(graceMs: number): Promise<void> {
    this.stopRequested = true;
    if (!this.running) return;
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Synchronous last resort (process 'exit' handler). */
  killNow(): void {
    this.stopRequested = true;
    if (this.running) this.signal('SIGKILL');
  }

  private signal(sig: NodeJS.Signals): void {
    const pid = this.proc.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, sig); // the whole group: the child and anything it started
    } catch {
      try {
        this.proc.kill(sig);
      } catch {
        /* already gone */
      }
    }
  }

  private push(line: string): void {
    this.tail.push(line);
    if (this.tail.length > TAIL_LINES) this.tail.splice(0, this.tail.length - TAIL_LINES);
    this.lineListeners.forEach((l) => l(line));
  }
}
