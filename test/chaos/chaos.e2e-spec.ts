import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChaosSummary } from '../../apps/chaos/src/run-chaos';
import { within } from '../support/wait-for';

const ROOT = join(__dirname, '../..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');

/**
 * A short `npm run chaos`: the chaos script (built bridge and emulator as children, a private
 * Redis) with bridge SIGKILL/SIGTERM, Redis restarts and ~10 % AWS faults while 300 executions
 * run. It must exit 0 with every "must be 0" column at 0.
 */
describe('chaos (short run of npm run chaos)', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sbb-chaos-test-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  let summary: ChaosSummary;
  let code: number | null;
  let out = '';
  const row = (label: string) => summary.rows.find((r) => r.label.startsWith(label))!.value;

  it('runs 300 executions through bridge SIGKILL/SIGTERM, Redis restarts and AWS faults, and reports', async () => {
    expect(existsSync(join(ROOT, 'dist/apps/bridge/main.js'))).toBe(true);
    expect(existsSync(join(ROOT, 'dist/apps/sfn-local/main.js'))).toBe(true);
    const report = join(dir, 'report.json');
    const child = spawn(
      TSX,
      [
        'apps/chaos/src/main.ts',
        '--executions',
        '300',
        '--seconds',
        '100',
        '--rate',
        '8',
        '--chaos-every',
        '5',
        '--seed',
        '7',
        '--report',
        report,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    code = await within(
      new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c))),
      150_000,
      'the chaos script to finish',
    ).catch((err) => {
      child.kill('SIGINT');
      throw err;
    });
    expect(existsSync(report)).toBe(true);
    summary = JSON.parse(readFileSync(report, 'utf8')) as ChaosSummary;
    expect(row('executions started')).toBe(300);
    // The chaos really happened.
    expect(summary.events['bridge-sigkill'] ?? 0).toBeGreaterThan(0);
    expect(summary.events['redis-sigterm'] ?? 0).toBeGreaterThan(0);
    expect(Object.values(summary.counters.faultsFired).reduce((n, v) => n + v, 0)).toBeGreaterThan(0);
  }, 170_000);

  it('loses nothing, relays no second result, runs nothing twice, ends everything as the worker said', () => {
    expect(summary).toBeDefined();
    expect(row('lost (never terminal')).toBe(0);
    expect(row('relayed twice: second result accepted')).toBe(0);
    expect({ secondResults: row('relayed twice: second result sent'), detail: summary.secondResultLines }).toEqual({
      secondResults: 0,
      detail: [],
    });
    expect(row('duplicate jobs')).toBe(0);
    expect(row('duplicate runs')).toBe(0);
    expect(row('ended otherwise')).toBe(0);
  });

  it('lets no task time out because of the bridge (heartbeat-needing tasks included) and exits 0', () => {
    expect(summary).toBeDefined();
    if (code !== 0) process.stderr.write(out.slice(-5000));
    expect(summary.timeoutLines).toEqual([]);
    expect(row('timed out because of the bridge')).toBe(0);
    expect(code).toBe(0);
  });
});
