import { freePort } from '@bridge/common';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_ACTIVITY_ARN } from '../../apps/demo/src/scenario';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../support/redis';
import { waitFor, within } from '../support/wait-for';

const DEMO_MAIN = join(__dirname, '../../dist/apps/demo/main.js');

/** PIDs of processes whose environment carries `mark` (the demo and every child it started). */
function processesMarked(mark: string): number[] {
  if (!existsSync('/proc')) return [];
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/environ`, 'latin1').split('\0').includes(mark)) pids.push(Number(d));
    } catch {
      /* gone, or not ours */
    }
  }
  return pids;
}

describe('demo (dist/apps/demo/main.js, as `npm run demo -- --once` runs it)', () => {
  it('binds the activity that docker/bindings.demo.yaml routes to the payments queue', () => {
    const yaml = readFileSync(join(__dirname, '../../docker/bindings.demo.yaml'), 'utf8');
    expect(yaml).toContain(`activityArn: ${DEMO_ACTIVITY_ARN}`);
  });

  it('runs 30 executions through emulator, bridge and worker, all as expected, with Bull Board up meanwhile', async () => {
    const prefix = uniquePrefix('demo');
    const port = await freePort();
    const mark = `SBB_DEMO_TEST_MARK=${prefix}`;
    const env: NodeJS.ProcessEnv = { ...process.env, REDIS_URL, SBB_DEMO_TEST_MARK: prefix };
    delete env.BULL_BOARD_PASSWORD;
    const demo = spawn(
      process.execPath,
      [
        DEMO_MAIN,
        '--once',
        '--count',
        '30',
        '--rate',
        '10',
        '--port',
        String(port),
        '--sfn-port',
        '0',
        '--prefix',
        prefix,
        '--timeout',
        '60',
      ],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    demo.stdout.on('data', (c: Buffer) => (out += c.toString()));
    demo.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => demo.once('exit', (code) => resolve(code)));
    const tail = () => `\n--- demo output ---\n${out.slice(-4000)}`;
    try {
      await waitFor(() => /demo: Bull Board: http:\/\/localhost:(\d+)\/queues/.test(out), {
        timeoutMs: 60_000,
        intervalMs: 50,
        message: `the demo to print the Bull Board URL${tail()}`,
      });
      expect(out).toContain(`Bull Board: http://localhost:${port}/queues`);
      const board = await fetch(`http://127.0.0.1:${port}/queues`, { signal: AbortSignal.timeout(5000) });
      expect(board.status).toBe(200);
      expect(await board.text()).toMatch(/<html/i);

      const code = await within(exited, 90_000, `the demo to exit${tail()}`);
      expect({ code, summary: out.match(/ended as expected: \d+\/\d+/)?.[0] }).toEqual({ code: 0, summary: 'ended as expected: 30/30' });
      expect(out).toMatch(/unexpected 0, still running 0/);
      expect(out).toMatch(/p50 \d+ ms, p95 \d+ ms/);
      // No orphan: the emulator, bridge and worker it started are gone with it.
      expect(processesMarked(mark)).toEqual([]);
    } finally {
      if (demo.exitCode === null && demo.signalCode === null) {
        demo.kill('SIGTERM');
        await within(exited, 30_000, 'the demo to stop after SIGTERM').catch(() => demo.kill('SIGKILL'));
      }
      await cleanupPrefix(prefix);
    }
  }, 180_000);
});
