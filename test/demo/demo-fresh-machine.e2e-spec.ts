import { freePort, redisAnswers, withTimeout } from '@bridge/common';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { uniquePrefix } from '../support/redis';

/**
 * "Two commands on a fresh machine": with no Redis answering at REDIS_URL, the demo starts a
 * private redis-server for its run and stops it after; with no redis-server installed either, it
 * says in one line how to get one.
 */
const DEMO_MAIN = join(__dirname, '../../dist/apps/demo/main.js');

async function runDemo(env: NodeJS.ProcessEnv, args: string[]): Promise<{ code: number | null; out: string }> {
  const demo = spawn(process.execPath, [DEMO_MAIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  demo.stdout.on('data', (c: Buffer) => (out += c.toString()));
  demo.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => demo.once('exit', (code) => resolve(code)));
  try {
    const code = await withTimeout(exited, 90_000, `the demo to exit\n--- demo output ---\n${out.slice(-4000)}`);
    return { code, out };
  } finally {
    if (demo.exitCode === null && demo.signalCode === null) demo.kill('SIGKILL');
  }
}

describe('demo on a machine where no Redis answers at REDIS_URL', () => {
  it('runs the batch on a private redis-server and stops that server at the end', async () => {
    const closed = `redis://127.0.0.1:${await freePort()}`;
    const { code, out } = await runDemo({ REDIS_URL: closed }, [
      '--once',
      '--count',
      '10',
      '--rate',
      '20',
      '--port',
      '0',
      '--sfn-port',
      '0',
      '--prefix',
      uniquePrefix('demo-fresh'),
      '--timeout',
      '60',
    ]);
    const started = out.match(/started a private redis-server at (redis:\/\/127\.0\.0\.1:\d+)/)?.[1];
    expect({ code, started: !!started, summary: out.match(/ended as expected: \d+\/\d+/)?.[0] }).toEqual({
      code: 0,
      started: true,
      summary: 'ended as expected: 10/10',
    });
    expect(await redisAnswers(started!, 500)).toBe(false);
  }, 120_000);

  it('says in one line how to get Redis when redis-server is not installed, and exits 1', async () => {
    const closed = `redis://127.0.0.1:${await freePort()}`;
    const { code, out } = await runDemo({ REDIS_URL: closed, REDIS_SERVER_BIN: '/nonexistent/redis-server' }, ['--once', '--count', '1']);
    const hint = out.split('\n').filter((l) => l.includes('redis-server is not installed'));
    expect({ code, hint }).toEqual({
      code: 1,
      hint: [
        expect.stringMatching(
          /^demo: no Redis answers at redis:\/\/127\.0\.0\.1:\d+ and redis-server is not installed\. .*apt-get install redis-server.*brew install redis.*docker run/,
        ),
      ],
    });
  }, 60_000);
});
