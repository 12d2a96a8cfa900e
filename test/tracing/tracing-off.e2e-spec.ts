import { SFNClient } from '@aws-sdk/client-sfn';
import { Queue } from 'bullmq';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SfnLocal, startSfnLocal } from '../../apps/sfn-local/src';
import { bridgeEnv } from '../support/bridge';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../support/redis';
import { createActivityMachine, startExecution, testSfnClient } from '../support/sfn';
import { within } from '../support/wait-for';

const BUNDLE = join(__dirname, '../../dist/apps/bridge/main.js');
const PRELOAD = join(__dirname, 'fixtures/report-otel-modules.js');

/**
 * Tracing off (no OTLP endpoint, no OTEL_TRACES_EXPORTER; OTEL_SERVICE_NAME alone does not switch
 * it on): the built bridge, after taking a task, has loaded no OpenTelemetry SDK package and not
 * bullmq-otel; the API is all (its no-op tracer is never asked for a span).
 */
describe('tracing off: no OpenTelemetry SDK in the process', () => {
  let sfnLocal: SfnLocal;
  let sfn: SFNClient;
  const prefix = uniquePrefix('tracing-off');

  beforeAll(async () => {
    if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: build it first (npm run build, or npm test)`);
    sfnLocal = await startSfnLocal({ pollSeconds: 1, quiet: true });
    sfn = testSfnClient(sfnLocal.url);
  });

  afterAll(async () => {
    await sfnLocal?.close();
    sfn?.destroy();
    await cleanupPrefix(prefix);
  });

  it('loads only @opentelemetry/api, also after a task went through the poller and the producer', async () => {
    const machine = await createActivityMachine(sfn, 'tracing-off');
    const env = bridgeEnv(prefix, sfnLocal.url, [{ activityArn: machine.activityArn, queue: 'tracing-off' }], {
      LOG_LEVEL: 'info',
      OTEL_SERVICE_NAME: 'not-enough-to-switch-it-on',
    });
    const child = spawn(process.execPath, ['-r', PRELOAD, BUNDLE], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const seen = (pattern: RegExp, what: string) =>
      within(
        new Promise<RegExpMatchArray>((resolve) => {
          const check = () => {
            const m = out.match(pattern);
            if (m) resolve(m);
          };
          child.stdout.on('data', check);
          child.stderr.on('data', check);
          check();
        }),
        20_000,
        `${what}; output so far:\n${out.slice(-2000)}`,
      );
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      await seen(/Listening on/, 'the bridge to listen');
      await startExecution(sfn, machine.stateMachineArn, { n: 1 });
      // The task went through the poller and the producer: its job waits in the queue (no consumer here).
      const queue = new Queue('tracing-off', { connection: { url: REDIS_URL }, prefix });
      try {
        await within(
          (async () => {
            while ((await queue.getWaitingCount()) < 1) await new Promise((r) => setTimeout(r, 50));
          })(),
          20_000,
          'the task to be enqueued',
        );
      } finally {
        await queue.close();
      }
      child.kill('SIGUSR2');
      const [, list] = await seen(/loaded-otel-packages (\[.*\])/, 'the preload to list loaded packages');
      expect(JSON.parse(list)).toEqual(['@opentelemetry/api']);
      expect(out).not.toMatch(/OpenTelemetry tracing on/);
    } finally {
      child.kill('SIGKILL');
      await within(exited, 10_000, 'bridge to exit after SIGKILL');
    }
  });
});
