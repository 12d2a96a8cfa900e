import { spawn, ChildProcess } from 'node:child_process';

/** Spawns a Node child and resolves with the first http:// URL it prints on stdout. */
export async function spawnServer(args: string[], cwd: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 20_000);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (c: string) => {
      out += c;
      const m = /(http:\/\/[^\s]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return { child, url };
}

/** CPU seconds used (user + system) between two process.cpuUsage() readings, per wall second. */
export const coreFraction = (a: { user: number; system: number }, b: { user: number; system: number }, wallMs: number): number =>
  (b.user + b.system - a.user - a.system) / 1000 / wallMs;
