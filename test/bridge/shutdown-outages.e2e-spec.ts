import { SFNClient } from '@aws-sdk/client-sfn';
import { SfnLocal, startSfnLocal } from '../../apps/sfn-local/src';
import { freePort, PrivateRedis } from '@bridge/common';
import { BridgeProcess, bridgeEnv, spawnBridge } from '../support/bridge';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../support/redis';
import { createActivityMachine, startExecution, testSfnClient } from '../support/sfn';
import { waitFor, within } from '../support/wait-for';

/**
 * SIGTERM always ends the built bridge within SHUTDOWN_DRAIN_TIMEOUT_MS + 5 s, gracefully (exit 0,
 * no "exiting anyway"), whatever is down: Redis, Step Functions, both, or either going away while
 * the parked polls drain. (Before: with Redis unreachable a SIGTERM was never acted on; every
 * BullMQ close waited for a Redis connection ioredis never ended.) Runs the built bridge.
 */

const DRAIN_MS = 2_000;
const EXIT_WITHIN_MS = DRAIN_MS + 5_000;

interface Run {
  bridge: BridgeProcess;
  code: number | null;
  signal: NodeJS.Signals | null;
  afterMs: number;
}

describe('SIGTERM exits within SHUTDOWN_DRAIN_TIMEOUT_MS + 5 s whatever is down', () => {
  let sfnLocal: SfnLocal;
  let sfn: SFNClient;
  let activityArn: string;
  let stateMachineArn: string;
  const prefixes: string[] = [];
  const children: BridgeProcess[] = [];

  beforeAll(async () => {
    // A 30 s hold: polls stay parked through the whole drain unless something answers them.
    sfnLocal = await startSfnLocal({ pollSeconds: 30, quiet: true });
    sfn = testSfnClient(sfnLocal.url);
    ({ activityArn, stateMachineArn } = await createActivityMachine(sfn, 'shutdown-outage'));
  });

  afterAll(async () => {
    for (const b of children) if (b.child.exitCode === null && b.child.signalCode === null) b.child.kill('SIGKILL');
    await sfnLocal?.close();
    sfn?.destroy();
    for (const p of prefixes) await cleanupPrefix(p);
  });

  function start(redisUrl: string, sfnUrl: string): BridgeProcess {
    const prefix = uniquePrefix('sd-out');
    prefixes.push(prefix);
    const bridge = spawnBridge(
      bridgeEnv(prefix, sfnUrl, [{ activityArn, queue: 'sd-out', pollers: 3 }], {
        REDIS_URL: redisUrl,
        LOG_LEVEL: 'info',
        SHUTDOWN_DRAIN_TIMEOUT_MS: String(DRAIN_MS),
        ENQUEUE_RETRY_FOR_MS: '20000',
      }),
    );
    children.push(bridge);
    return bridge;
  }

  async function sigterm(bridge: BridgeProcess, during?: () => Promise<void>): Promise<Run> {
    const sentAt = Date.now();
    bridge.child.kill('SIGTERM');
    await bridge.waitForOutput(/SIGTERM: shutting down/, 3_000);
    await during?.();
    const code = await within(bridge.exited, EXIT_WITHIN_MS + 2_000, `bridge to exit after SIGTERM\n${bridge.output().slice(-3000)}`);
    return { bridge, code, signal: bridge.child.signalCode, afterMs: Date.now() - sentAt };
  }

  function expectGraceful(run: Run): void {
    const tail = run.bridge.output().slice(-2500);
    expect({ code: run.code, signal: run.signal, tail }).toEqual({ code: 0, signal: null, tail });
    expect(run.afterMs).toBeLessThan(EXIT_WITHIN_MS);
    expect(run.bridge.output()).not.toMatch(/exiting anyway|Shutdown failed/);
    expect(run.bridge.output()).toMatch(/Shut down in \d+ ms/);
  }

  const parked = () => sfnLocal.counters().parkedPollsByArn[activityArn] ?? 0;

  it('with Redis unreachable from the start (a closed port)', async () => {
    const bridge = start(`redis://127.0.0.1:${await freePort()}`, sfnLocal.url);
    await bridge.waitForOutput(/Listening on/, 30_000);
    // Several reconnect attempts: a connection between two attempts is the one ioredis never ended.
    await new Promise((r) => setTimeout(r, 3_000));
    expectGraceful(await sigterm(bridge));
  }, 30_000);

  it('with Step Functions unreachable (a closed port)', async () => {
    const bridge = start(REDIS_URL, `http://127.0.0.1:${await freePort()}`);
    await bridge.waitForOutput(/GetActivityTask failed/, 30_000);
    expectGraceful(await sigterm(bridge));
  }, 30_000);

  it('with both unreachable', async () => {
    const bridge = start(`redis://127.0.0.1:${await freePort()}`, `http://127.0.0.1:${await freePort()}`);
    await bridge.waitForOutput(/Listening on/, 30_000);
    await new Promise((r) => setTimeout(r, 3_000));
    expectGraceful(await sigterm(bridge));
  }, 30_000);

  it('with Redis going away during the drain, a task handed to a draining poll meanwhile', async () => {
    const redis = await PrivateRedis.start();
    try {
      const bridge = start(redis.url, sfnLocal.url);
      await bridge.waitForOutput(/Listening on/, 30_000);
      await waitFor(() => parked() === 3, { timeoutMs: 10_000, message: `3 parked polls (saw ${parked()})` });
      const run = await sigterm(bridge, async () => {
        await redis.stop();
        // Its write now waits for Redis (retried for 20 s, past the drain).
        await startExecution(sfn, stateMachineArn, { n: 1 });
      });
      expectGraceful(run);
    } finally {
      await redis.stop();
    }
  }, 30_000);

  it('with Step Functions going away during the drain, after a Redis outage', async () => {
    const redis = await PrivateRedis.start();
    const ownSfn = await startSfnLocal({ pollSeconds: 30, quiet: true });
    const ownClient = testSfnClient(ownSfn.url);
    try {
      const { activityArn: arn } = await createActivityMachine(ownClient, 'shutdown-sfn-gone');
      const prefix = uniquePrefix('sd-gone');
      const bridge = spawnBridge(
        bridgeEnv(prefix, ownSfn.url, [{ activityArn: arn, queue: 'sd-gone', pollers: 3 }], {
          REDIS_URL: redis.url,
          LOG_LEVEL: 'info',
          SHUTDOWN_DRAIN_TIMEOUT_MS: String(DRAIN_MS),
        }),
      );
      children.push(bridge);
      await bridge.waitForOutput(/Listening on/, 30_000);
      await redis.stop();
      await bridge.waitForOutput(/Redis connection failed|Redis unreachable/, 10_000);
      await redis.restart();
      await bridge.waitForOutput(/Redis connection recovered/, 15_000);
      const ownParked = () => ownSfn.counters().parkedPollsByArn[arn] ?? 0;
      await waitFor(() => ownParked() === 3, { timeoutMs: 10_000, message: `3 parked polls (saw ${ownParked()})` });
      expectGraceful(await sigterm(bridge, () => ownSfn.close()));
    } finally {
      await ownSfn.close();
      ownClient.destroy();
      await redis.stop();
    }
  }, 40_000);
});
