import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Spawned {
  child: ChildProcess;
  match: RegExpMatchArray;
  stop(): void;
}

/** Spawns `node args…` and resolves once its output matches `ready` (fails after 30 s or on exit). */
export function spawnReady(name: string, args: string[], env: NodeJS.ProcessEnv, ready: RegExp): Promise<Spawned> {
  const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const stop = () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  };
  process.once('exit', stop);
  child.once('exit', () => process.removeListener('exit', stop));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${name} not ready after 30 s:\n${out.slice(-2000)}`)), 30_000);
    function fail(err: Error) {
      clearTimeout(timer);
      stop();
      reject(err);
    }
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = out.match(ready);
      if (match) {
        clearTimeout(timer);
        child.stdout!.removeAllListeners('data');
        child.stderr!.removeAllListeners('data');
        const logDir = process.env.BENCH_CHILD_LOGS;
        if (logDir) {
          // Diagnostics (e.g. BENCH_BRIDGE_NODE_FLAGS=--trace-gc): the rest of its output, to <dir>/<name>-<pid>.log.
          const file = createWriteStream(join(logDir, `${name.replace(/\W+/g, '-')}-${child.pid}.log`));
          file.write(out);
          child.stdout!.pipe(file);
          child.stderr!.pipe(file);
        } else {
          child.stdout!.resume();
          child.stderr!.resume();
        }
        resolve({ child, match, stop });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => fail(new Error(`${name} exited (${code}) before it was ready:\n${out.slice(-2000)}`)));
  });
}

/**
 * CPU time (s) of a process's main thread (user, system) and of all its other threads (V8's GC and
 * compiler helpers, libuv's pool), from /proc/<pid>/task (Linux).
 */
export function threadCpu(pid: number): { mainUser: number; mainSystem: number; others: number } {
  const out = { mainUser: 0, mainSystem: 0, others: 0 };
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // it ended between the listing and the read
      throw err;
    }
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const [user, system] = [Number(f[11]) / 100, Number(f[12]) / 100];
    if (Number(tid) === pid) Object.assign(out, { mainUser: user, mainSystem: system });
    else out.others += user + system;
  }
  return out;
}

/** Resident memory (MB) and CPU time (s) of a process, from /proc (Linux). */
export function procStats(pid: number): { rssMb: number; cpuSeconds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
  return { rssMb: rssKb / 1024, cpuSeconds: ticks / 100 };
}
