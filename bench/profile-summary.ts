/**
 * Self time of a V8 .cpuprofile (from `node --cpu-prof`) by package, inside a busy window:
 *
 *   npx tsx bench/profile-summary.ts <file.cpuprofile> [busy-window.json] [--functions 25]
 *
 * busy-window.json ({ monoWindowUs: [from, to] }, CLOCK_MONOTONIC µs) is written by
 * `BENCH_CPU_PROF=<dir> npm run bench`; without it the whole profile counts. Groups: each
 * node_modules package (scoped ones whole, e.g. @smithy/core), "node internals" (node: modules and
 * native code), "project" (the bridge bundle), "(garbage collector)", and "(program)"; idle is left out.
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: Node[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

function group(url: string, fn: string): string {
  if (fn === '(garbage collector)' || fn === '(program)' || fn === '(idle)') return fn;
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  if (url.includes('/dist/apps/') || url.includes('/libs/') || url.includes('/apps/')) return 'project';
  return 'node internals';
}

function main(): void {
  const [file, windowFile] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const nFn = Number(process.argv[process.argv.indexOf('--functions') + 1]) || 25;
  const prof = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const win = windowFile ? (JSON.parse(readFileSync(windowFile, 'utf8')).monoWindowUs as [number, number]) : [-Infinity, Infinity];
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const groups = new Map<string, number>();
  const fns = new Map<string, number>();
  let t = prof.startTime;
  let total = 0;
  let idle = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    t += prof.timeDeltas[i];
    const dt = prof.timeDeltas[i + 1] ?? 0;
    if (t < win[0] || t > win[1]) continue;
    const n = byId.get(prof.samples[i])!;
    const g = group(n.callFrame.url, n.callFrame.functionName);
    if (g === '(idle)') {
      idle += dt;
      continue;
    }
    total += dt;
    groups.set(g, (groups.get(g) ?? 0) + dt);
    const key = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/.*node_modules\//, '')}:${n.callFrame.lineNumber + 1}`;
    fns.set(key, (fns.get(key) ?? 0) + dt);
  }
  const pct = (v: number) => `${((v / total) * 100).toFixed(1).padStart(5)} %`;
  console.log(`busy ${(total / 1e6).toFixed(2)} s CPU, idle ${(idle / 1e6).toFixed(2)} s in the window`);
  for (const [g, v] of [...groups].sort((a, b) => b[1] - a[1])) console.log(`${pct(v)}  ${g}`);
  console.log(`\ntop ${nFn} functions (self time):`);
  for (const [f, v] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, nFn)) console.log(`${pct(v)}  ${f}`);
}

main();
