import { SFNClient } from '@aws-sdk/client-sfn';
import { sleep } from '@bridge/common';
import { tokenRef } from '@bridge/sfn';
import { Job, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SfnLocal, startSfnLocal } from '../../apps/sfn-local/src';
import { BridgeProcess, bridgeEnv, spawnBridge } from '../support/bridge';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../support/redis';
import { createActivityMachine, startExecution, testSfnClient, waitForExecution } from '../support/sfn';
import { waitForClose, waitForToken } from '../support/task-records';
import { within } from '../support/wait-for';
import { get } from './ops-http';

class PaymentDeclined extends Error {
  override name = 'PaymentDeclined';
}

const BUNDLE = join(__dirname, '../../dist/apps/bridge/main.js');
/** Appears in every task input and output: must never reach a log line (LOG_PAYLOADS is off). */
const PAYLOAD_MARKER = `payload-marker-${Date.now().toString(36)}`;

/**
 * The built bridge's logs at debug level: JSON lines, task tokens by their short hash only, no
 * task payload, no board password, through successes, failures and a relay on a closed token.
 * The tokens to look for are read from the task records while their jobs run.
 */
describe('logs of the built bridge (LOG_LEVEL=debug, JSON lines)', () => {
  let sfnLocal: SfnLocal;
  let sfn: SFNClient;
  let connection: IORedis;
  let bridge: BridgeProcess;
  let url: string;
  const workers: Worker[] = [];
  const prefix = uniquePrefix('logs');
  /** Each task's token, read from its record while its job runs (the record drops it on close). */
  const tokens = new Map<string, string>();
  const noteToken = async (job: Job) => tokens.set(job.id!, await waitForToken(connection, prefix, job.id!));

  beforeAll(async () => {
    if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: build it first (npx nest build bridge, or npm test)`);
    sfnLocal = await startSfnLocal({ pollSeconds: 1, quiet: true });
    sfn = testSfnClient(sfnLocal.url);
    connection = new IORedis(REDIS_URL, { maxRetriesPerRequest: null });
  });

  afterAll(async () => {
    for (const w of workers) await w.close();
    if (bridge && bridge.child.exitCode === null && bridge.child.signalCode === null) {
      bridge.child.kill('SIGKILL');
      await within(bridge.exited, 10_000, 'bridge child to exit after SIGKILL');
    }
    await connection?.quit();
    await sfnLocal?.close();
    sfn?.destroy();
    await cleanupPrefix(prefix);
  });

  it('never shows a whole task token nor a task payload, through successes, failures and a relay on a closed token', async () => {
    const pay = await createActivityMachine(sfn, 'logs-pay');
    const late = await createActivityMachine(sfn, 'logs-late', { timeoutSeconds: 1 });
    let lateJobId: string | undefined;
    bridge = spawnBridge(
      bridgeEnv(
        prefix,
        sfnLocal.url,
        [
          { activityArn: pay.activityArn, queue: 'logs-pay', pollers: 2 },
          { activityArn: late.activityArn, queue: 'logs-late', pollers: 1 },
        ],
        { LOG_LEVEL: 'debug', PORT: '0', BULL_BOARD_PASSWORD: 'logs-board-pw' },
      ),
    );
    const listening = await bridge.waitForOutput(/Listening on 0\.0\.0\.0:\d+/, 30_000);
    url = `http://127.0.0.1:${listening.split(':').pop()}`;

    workers.push(
      new Worker(
        'logs-pay',
        async (job: Job<{ n: number; note: string }>) => {
          await noteToken(job);
          if (job.data.n % 2 === 1) throw new PaymentDeclined(`order ${job.data.n} declined`);
          return { n: job.data.n, note: job.data.note };
        },
        { connection, prefix, concurrency: 5 },
      ),
      // Finishes after the Task state's 1 s timeout: the relay meets a closed token (TaskTimedOut).
      new Worker(
        'logs-late',
        async (job: Job<{ note: string }>) => {
          lateJobId = job.id!;
          await noteToken(job);
          await sleep(2_500);
          return { note: job.data.note };
        },
        { connection, prefix },
      ),
    );

    const payArns = await Promise.all(
      Array.from({ length: 6 }, (_, n) => startExecution(sfn, pay.stateMachineArn, { n, note: PAYLOAD_MARKER })),
    );
    const lateArn = await startExecution(sfn, late.stateMachineArn, { note: PAYLOAD_MARKER });
    const payResults = await Promise.all(payArns.map((arn) => waitForExecution(sfn, arn, 20_000)));
    expect(payResults.map((r) => r.status)).toEqual(['SUCCEEDED', 'FAILED', 'SUCCEEDED', 'FAILED', 'SUCCEEDED', 'FAILED']);
    expect((await waitForExecution(sfn, lateArn, 20_000)).error).toBe('States.Timeout');

    // The late task's record closes as the relay met the closed token (or a heartbeat saw it gone first).
    expect(lateJobId).toEqual(expect.any(String));
    const lateClosed = await waitForClose(connection, prefix, lateJobId!, 15_000);
    expect(['expired', 'cancelled']).toContain(lateClosed.status);

    // Ops endpoints too (access logs are on at debug), including the late task's job through the board.
    for (const path of ['/health', '/health/ready', '/metrics']) expect((await get(`${url}${path}`)).status).toBeLessThan(600);
    const boardAuth = { user: 'admin', password: 'logs-board-pw' };
    expect((await get(`${url}/queues/api/queues/logs-late/${lateJobId}`, boardAuth)).status).toBe(200);

    expect(new Set(tokens.values()).size).toBe(payArns.length + 1);

    bridge.child.kill('SIGTERM');
    const code = await within(bridge.exited, 30_000, 'bridge child to exit after SIGTERM');
    expect(code).toBe(0); // graceful shutdown (main.ts exits 0 after the shutdown hooks)

    const output = bridge.output();
    const jsonLines = output.split('\n').filter((l) => l.startsWith('{'));
    expect(jsonLines.length).toBeGreaterThan(20);
    for (const line of jsonLines) expect(() => JSON.parse(line)).not.toThrow();
    // The logs do talk about these tasks, by their short hash only.
    expect([...tokens.values()].some((t) => output.includes(tokenRef(t)))).toBe(true);
    for (const token of tokens.values()) {
      expect(output).not.toContain(token);
      expect(output).not.toContain(token.slice(0, 64));
      expect(output).not.toContain(token.slice(-64));
    }
    expect(output).not.toContain(PAYLOAD_MARKER);
    expect(output).not.toContain('logs-board-pw');
  }, 120_000);
});
