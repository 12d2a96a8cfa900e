import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChaosSummary } from '../../apps/chaos/src/run-chaos';
import { within } from './wait-for';

const ROOT = join(__dirname, '../..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');

export interface ChaosScriptRun {
  code: number | null;
  /** stdout + stderr (progress log and the table). */
  out: string;
  /** The `--report` JSON (undefined when the script wrote none). */
  summary?: ChaosSummary;
}

/**
 * Runs `npm run chaos`'s script (without the build: the e2e suite runs on the built bridge and
 * emulator) with `args` plus `--report`, bounded by `timeoutMs` (SIGINT to it after that, which
 * stops its children).
 */
export async function runChaosScript(args: string[], report: string, timeoutMs: number): Promise<ChaosScriptRun> {
  const child = spawn(TSX, ['apps/chaos/src/main.ts', ...args, '--report', report], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const code = await within(
    new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c))),
    timeoutMs,
    'the chaos script to finish',
  ).catch((err: Error) => {
    child.kill('SIGINT');
    throw new Error(`${err.message}\n${out.slice(-5000)}`);
  });
  const summary = existsSync(report) ? (JSON.parse(readFileSync(report, 'utf8')) as ChaosSummary) : undefined;
  return { code, out, summary };
}

/** The value of the summary row whose label starts with `label`. */
export function rowOf(summary: ChaosSummary, label: string): number {
  const row = summary.rows.find((r) => r.label.startsWith(label));
  if (!row) throw new Error(`no summary row '${label}' (rows: ${summary.rows.map((r) => r.label).join('; ')})`);
  return row.value;
}
