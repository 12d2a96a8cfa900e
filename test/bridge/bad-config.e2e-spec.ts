import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bridgeEnv, spawnBridge } from '../support/bridge';
import { within } from '../support/wait-for';

/**
 * The built bridge (`npm run build`) refuses a bad configuration before it touches Redis or Step
 * Functions: exit code 1 and a message naming the key and the problem, never a secret.
 */

const ARN = 'arn:aws:states:us-east-1:123456789012:activity:charge-card';
const PASSWORD = 'hunter2-sekret-Pa55';
/** Local Redis needs no password; the bridge must exit before connecting anyway. */
const REDIS_URL_WITH_PASSWORD = `redis://app:${PASSWORD}@127.0.0.1:6379/0`;

describe('bridge process with a bad BRIDGE_CONFIG', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sbb-bad-config-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function file(name: string, yaml: string): string {
    const path = join(dir, name);
    writeFileSync(path, yaml);
    return path;
  }

  /** Runs the built bridge with `BRIDGE_CONFIG` (and optionally other env); resolves its exit code and output. */
  async function runBridge(configPath: string, extra: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
    const env = bridgeEnv('sbb-bad-config-unused', 'http://127.0.0.1:9', [], {
      REDIS_URL: REDIS_URL_WITH_PASSWORD,
      BRIDGE_CONFIG: configPath,
      ...extra,
    });
    delete env.BRIDGE_BINDINGS;
    const bridge = spawnBridge(env);
    try {
      const code = await within(bridge.exited, 20_000, `bridge to exit\n${bridge.output()}`);
      return { code, output: bridge.output() };
    } finally {
      if (bridge.child.exitCode === null) bridge.child.kill('SIGKILL');
    }
  }

  const cases: Array<[string, () => string, RegExp]> = [
    ['a missing file', () => join(dir, 'does-not-exist.yaml'), /BRIDGE_CONFIG: file not found: .*does-not-exist\.yaml/],
    [
      'a bad activity ARN',
      () => file('bad-arn.yaml', 'bindings:\n  - activityArn: arn:aws:states:us-east-1:12345:activity:charge-card\n    queue: payments\n'),
      /bindings\[0\]\.activityArn: account must be 12 digits/,
    ],
    [
      'an unknown key',
      () => file('unknown-key.yaml', `bindings:\n  - activityArn: ${ARN}\n    queue: payments\n    pollerz: 4\n`),
      /bindings\[0\]\.pollerz: unknown key \(did you mean "pollers"\?\)/,
    ],
    [
      'negative pollers',
      () => file('negative-pollers.yaml', `bindings:\n  - activityArn: ${ARN}\n    queue: payments\n    pollers: -3\n`),
      /bindings\[0\]\.pollers: must be >= 1 \(got -3\)/,
    ],
    [
      'two bindings for one ARN',
      () =>
        file(
          'duplicate-arn.json',
          JSON.stringify({
            bindings: [
              { activityArn: ARN, queue: 'payments' },
              { activityArn: ARN, queue: 'refunds' },
            ],
          }),
        ),
      /bindings\[1\]\.activityArn: duplicate of bindings\[0\]\.activityArn/,
    ],
  ];

  it.each(cases)('exits 1 naming the problem for %s, without printing the Redis password', async (_label, path, problem) => {
    const { code, output } = await runBridge(path());
    expect(output).toMatch(/invalid configuration/i);
    expect(output).toMatch(problem);
    expect(output).not.toContain(PASSWORD);
    expect(code).toBe(1);
  });

  it('exits 1 for a REDIS_URL that is not redis://, showing it only redacted', async () => {
    const good = file('good.yaml', `bindings:\n  - activityArn: ${ARN}\n    queue: payments\n`);
    const { code, output } = await runBridge(good, { REDIS_URL: `http://app:${PASSWORD}@127.0.0.1:6379` });
    expect(output).toMatch(/REDIS_URL: not a redis:\/\/ or rediss:\/\/ URL/);
    expect(output).not.toContain(PASSWORD);
    expect(code).toBe(1);
  });
});
