import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { CreateActivityCommand, GetActivityTaskCommand, SFNClient } from '@aws-sdk/client-sfn';
import { within } from './helpers';

const ROOT = join(__dirname, '../..');

describe('sfn-local CLI', () => {
  it('prints exactly one line with its URL when ready, serves the SDK, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'apps/sfn-local/src/main.ts', '--port', '0'], {
      cwd: ROOT,
      env: { ...process.env, SFN_LOCAL_POLL_SECONDS: '1', PORT: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      child.stdout.setEncoding('utf8');
      const url = await within(
        new Promise<string>((resolve, reject) => {
          child.stdout.on('data', (c: string) => {
            out += c;
            const m = /^sfn-local listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(out);
            if (m) resolve(m[1]);
          });
          child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
        }),
        20_000,
        'CLI start',
      );
      const sfn = new SFNClient({ region: 'us-east-1', endpoint: url, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
      const { activityArn } = await sfn.send(new CreateActivityCommand({ name: 'cli' }));
      const t0 = Date.now();
      const poll = await within(sfn.send(new GetActivityTaskCommand({ activityArn })), 5000, 'poll');
      expect(poll.taskToken).toBeUndefined();
      expect(Date.now() - t0).toBeGreaterThanOrEqual(900); // SFN_LOCAL_POLL_SECONDS=1 applied
      sfn.destroy();
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = await within(exited, 5000, 'exit on SIGTERM');
      expect(code).toBe(0);
      expect(out.trim().split('\n')).toHaveLength(1);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
