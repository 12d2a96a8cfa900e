import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
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

/** Resident memory (MB) and CPU time (s) of a process, from /proc (Linux). */
export function procStats(pid: number): { rssMb: number; cpuSeconds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
  return { rssMb: rssKb / 1024, cpuSeconds: ticks / 100 };
}
