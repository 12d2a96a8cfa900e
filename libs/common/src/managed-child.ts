/**
 * A child process the demo, the chaos run and the tests start, watch and stop: its output kept
 * (last lines, optionally a log file, optionally forwarded line by line), its readiness awaited on
 * an output line, its stop escalated SIGTERM -> SIGKILL, and the same command startable again
 * (a "generation") after a kill. One implementation, so every caller gets the same exit handling.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';

const TAIL_LINES = 200;
const DEFAULT_READY_TIMEOUT_MS = 30_000;

/** Every child running now, so that any exit path can kill what is left (killAllChildren). */
const LIVE = new Set<ManagedChild>();

/** Kills every child still running (SIGKILL). Synchronous: safe in a process `exit` handler. */
export function killAllChildren(): void {
  for (const child of LIVE) child.killNow();
  LIVE.clear();
}

export interface ChildSpec {
  /** Short name, used in messages (and by callers as a line prefix). */
  name: string;
  /** The executable; the running Node binary (`process.execPath`) when omitted. */
  command?: string;
  args: string[];
  /** The child's whole environment (PATH is added when missing). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Output of every generation is appended here. */
  logPath?: string;
  /** Called with each output line (stdout and stderr). */
  onLine?: (line: string) => void;
  /** A line that says the child is ready: start() waits for it. */
  ready?: RegExp;
  readyTimeoutMs?: number;
  /**
   * Own process group: a Ctrl-C in the terminal reaches only the parent, which stops its children
   * in order, and a stop signals the child and everything it started.
   */
  processGroup?: boolean;
}

export class ManagedChild {
  readonly name: string;
  private proc?: ChildProcess;
  private readonly tail: string[] = [];
  private readonly lineListeners = new Set<(line: string) => void>();
  private readonly log?: WriteStream;
  private stopRequested = false;
  /** How many times start() ran. */
  generation = 0;
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  /** Settles when the current generation has exited (at once before the first start). */
  exited: Promise<void> = Promise.resolve();
  /** Set by the owner: extra env for the next start (e.g. a new WORKER_NAME per generation). */
  envFor?: (generation: number) => NodeJS.ProcessEnv;

  constructor(readonly spec: ChildSpec) {
    this.name = spec.name;
    if (spec.logPath) this.log = createWriteStream(spec.logPath, { flags: 'a' });
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  get running(): boolean {
    return !!this.proc && this.exitCode === null && this.exitSignal === null;
  }

  /** True once stop() was called for this generation: an exit after that is expected. */
  get stopping(): boolean {
    return this.stopRequested;
  }

  lastLines(n = TAIL_LINES): string[] {
    return this.tail.slice(-n);
  }

  /** The last lines of output as one string (for error messages). */
  output(): string {
    return this.tail.join('\n');
  }

  describeExit(): string {
    return this.exitSignal ? `signal ${this.exitSignal}` : `code ${this.exitCode}`;
  }

  /**
   * Spawns the next generation; with `spec.ready`, resolves once a line matches it (rejects with
   * the last output when the child exits first or after `readyTimeoutMs`). waitForLine() gives
   * the match.
   */
  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    this.generation++;
    this.tail.length = 0;
    this.exitCode = null;
    this.exitSignal = null;
    this.stopRequested = false;
    const env = { PATH: process.env.PATH, ...this.spec.env, ...(this.envFor?.(this.generation) ?? {}) };
    const proc = spawn(this.spec.command ?? process.execPath, this.spec.args, {
      cwd: this.spec.cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: this.spec.processGroup ?? false,
    });
    this.proc = proc;
    LIVE.add(this);
    const generation = this.generation;
    this.log?.write(`\n===== ${this.name} generation ${generation} pid ${proc.pid} at ${new Date().toISOString()}\n`);
    this.exited = new Promise((resolve) => {
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        this.log?.write(`===== ${this.name} generation ${generation} exited (${this.exitSignal ?? this.exitCode})\n`);
        this.lineListeners.forEach((l) => l(''));
        resolve();
      };
      const gone = (code: number | null, signal: NodeJS.Signals | null) => {
        this.exitCode = code;
        this.exitSignal = signal;
        LIVE.delete(this);
        // Its last lines may still be in the pipes: wait for them ('close'), but not for a
        // grandchild that keeps the pipes open.
        proc.once('close', finish);
        setTimeout(finish, 200).unref();
      };
      proc.once('exit', gone);
      // A spawn failure (e.g. ENOENT) emits 'error' and may never emit 'exit'.
      proc.once('error', (err) => {
        this.push(`spawn failed: ${err.message}`);
        if (this.exitCode === null && this.exitSignal === null) (gone(-1, null), finish());
      });
    });
    for (const stream of [proc.stdout!, proc.stderr!]) {
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
        this.log?.write(`${line}\n`);
        this.push(line);
        this.spec.onLine?.(line);
      });
    }
    if (this.spec.ready) await this.waitForLine(this.spec.ready, this.spec.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
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
      const fail = (why: string) => {
        done();
        reject(new Error(`${this.name} ${why}:\n${this.lastLines(30).join('\n')}`));
      };
      const check = (line: string) => {
        const m = line.match(pattern);
        if (m) (done(), resolve(m));
        else if (!this.running) fail(`exited (${this.describeExit()}) before printing a line matching ${pattern}`);
      };
      const timer = setTimeout(() => fail(`printed no line matching ${pattern} within ${timeoutMs} ms`), timeoutMs);
      this.lineListeners.add(check);
      if (!this.running) check('');
    });
  }

  /**
   * Sends `signal` and waits for the exit; escalates to SIGKILL after `graceMs`. Resolves with how
   * long the exit took and whether it needed the SIGKILL.
   */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 30_000): Promise<{ ms: number; escalated: boolean }> {
    this.stopRequested = true;
    const started = Date.now();
    if (!this.running) return { ms: 0, escalated: false };
    this.signal(signal);
    let escalated = false;
    const timer = setTimeout(() => {
      escalated = true;
      this.signal('SIGKILL');
    }, graceMs);
    await this.exited;
    clearTimeout(timer);
    return { ms: Date.now() - started, escalated };
  }

  /** Synchronous last resort (process 'exit' handler). */
  killNow(): void {
    this.stopRequested = true;
    if (this.running) this.signal('SIGKILL');
  }

  /** Kills the child if it still runs and closes the log file. */
  async close(): Promise<void> {
    await this.stop('SIGKILL');
    const log = this.log;
    if (log && !log.closed) await new Promise<void>((resolve) => log.end(resolve));
  }

  private signal(sig: NodeJS.Signals): void {
    const pid = this.proc?.pid;
    if (pid === undefined) return;
    try {
      if (this.spec.processGroup)
        process.kill(-pid, sig); // the whole group: the child and anything it started
      else this.proc!.kill(sig);
    } catch {
      try {
        this.proc!.kill(sig);
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
