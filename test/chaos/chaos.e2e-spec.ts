import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChaosSummary } from '../../apps/chaos/src/run-chaos';
import { rowOf, runChaosScript } from '../support/chaos-script';

const ROOT = join(__dirname, '../..');

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
  const row = (label: string) => rowOf(summary, label);

  it('runs 300 executions through bridge SIGKILL/SIGTERM, Redis restarts and AWS faults, and reports', async () => {
    expect(existsSync(join(ROOT, 'dist/apps/bridge/main.js'))).toBe(true);
    expect(existsSync(join(ROOT, 'dist/apps/sfn-local/main.js'))).toBe(true);
    const run = await runChaosScript(
      ['--executions', '300', '--seconds', '100', '--rate', '8', '--chaos-every', '5', '--seed', '7'],
      join(dir, 'report.json'),
      150_000,
    );
    ({ code, out } = run);
    expect({ report: !!run.summary, tail: run.summary ? '' : out.slice(-3000) }).toEqual({ report: true, tail: '' });
    summary = run.summary!;
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
