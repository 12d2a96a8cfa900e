import { SFNClient } from '@aws-sdk/client-sfn';
import { SfnLocal, startSfnLocal } from '../../apps/sfn-local/src';
import { bridgeEnv, InProcessBridge, startBridge } from '../support/bridge';
import { uniquePrefix } from '../support/redis';
import { createActivityMachine, testSfnClient } from '../support/sfn';
import { waitFor } from '../support/wait-for';
import { get, sample } from './ops-http';
import { freePort, PrivateRedis } from '@bridge/common';

interface HealthBody {
  status: string;
  info: Record<string, { status: string; [k: string]: unknown }>;
  error: Record<string, { status: string; reason?: string; [k: string]: unknown }>;
}

describe('health endpoints (/health liveness, /health/ready readiness)', () => {
  let sfnLocal: SfnLocal;
  let sfn: SFNClient;
  let redis: PrivateRedis;
  let bridge: InProcessBridge;
  let activityArn: string;
  const others: InProcessBridge[] = [];

  beforeAll(async () => {
    sfnLocal = await startSfnLocal({ pollSeconds: 1, quiet: true });
    sfn = testSfnClient(sfnLocal.url);
    redis = await PrivateRedis.start();
    ({ activityArn } = await createActivityMachine(sfn, 'health'));
    bridge = await startBridge(
      bridgeEnv(uniquePrefix('health'), sfnLocal.url, [{ activityArn, queue: 'health-q', pollers: 2 }], { REDIS_URL: redis.url }),
    );
  });

  afterAll(async () => {
    for (const b of [bridge, ...others]) await b?.close();
    await redis?.stop();
    await sfnLocal?.close();
    sfn?.destroy();
  });

  const ready = async (b: InProcessBridge = bridge) => {
    const res = await get(`${b.url}/health/ready`);
    return { status: res.status, body: res.json<HealthBody>() };
  };

  it('answers /health with 200: the process runs and its event loop keeps up', async () => {
    const res = await get(`${bridge.url}/health`);
    expect(res.status).toBe(200);
    const body = res.json<HealthBody>();
    expect(body.status).toBe('ok');
    expect(body.info.process).toMatchObject({ status: 'up', pid: process.pid });
    expect(body.info.eventLoop).toMatchObject({ status: 'up', thresholdMs: 1000 });
    expect(typeof body.info.eventLoop.delayP99Ms).toBe('number');
  });

  it('answers /health/ready with 200 when Redis, Step Functions and the binding answer', async () => {
    // Step Functions counts as answering after the first poll comes back (polls park 1 s here).
    const res = await waitFor(
      async () => {
        const r = await ready();
        return r.status === 200 && r.body.info.stepFunctions?.lastAnswerAt ? r : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 200, message: '/health/ready to answer 200 with a Step Functions answer' },
    );
    expect(Object.keys(res.body.info).sort()).toEqual(['bindings', 'redis', 'stepFunctions']);
    expect(res.body.error).toEqual({});
    expect(res.body.info.bindings).toMatchObject({ status: 'up', bindings: { [activityArn.split(':').pop()!]: { healthy: true } } });
  });

  it('goes 503 naming Redis while Redis is down, and 200 again once it is back', async () => {
    await redis.stop();
    const down = await waitFor(
      async () => {
        const r = await ready();
        return r.status === 503 ? r : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 100, message: '/health/ready to answer 503 after Redis stopped' },
    );
    expect(Object.keys(down.body.error)).toEqual(['redis']);
    expect(down.body.error.redis.status).toBe('down');
    expect(down.body.error.redis.reason).toMatch(/^Redis (connection is|PING failed)/);
    expect(sample((await get(`${bridge.url}/metrics`)).text, 'sfn_bridge_redis_up')).toBe(0);
    // Liveness does not depend on Redis: an orchestrator must not restart the bridge for it.
    expect((await get(`${bridge.url}/health`)).status).toBe(200);

    await redis.restart();
    const back = await waitFor(
      async () => {
        const r = await ready();
        return r.status === 200 ? r : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 200, message: '/health/ready to answer 200 after Redis restarted' },
    );
    expect(back.body.info.redis.status).toBe('up');
    expect(sample((await get(`${bridge.url}/metrics`)).text, 'sfn_bridge_redis_up')).toBe(1);
  }, 40_000);

  it('goes 503 naming the binding whose activity does not exist', async () => {
    const missing = sfnLocal.activityArn('no-such-activity');
    const b = await startBridge(
      bridgeEnv(uniquePrefix('health-missing'), sfnLocal.url, [{ activityArn: missing, queue: 'missing-q', pollers: 1 }], {
        REDIS_URL: redis.url,
      }),
    );
    others.push(b);
    const res = await waitFor(
      async () => {
        const r = await ready(b);
        // Right after start the new bridge's Redis connection may not be ready yet: wait for the binding.
        return r.status === 503 && r.body.error.bindings && !r.body.error.redis ? r : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 100, message: '/health/ready to answer 503 for a missing activity' },
    );
    expect(Object.keys(res.body.error)).toEqual(['bindings']);
    expect(res.body.error.bindings.reason).toBe('binding no-such-activity: ActivityDoesNotExist');
    expect(res.body.info.stepFunctions.status).toBe('up');
  });

  it('reports Step Functions as unknown, not up, while Redis is down and no poll has run', async () => {
    const b = await startBridge(
      bridgeEnv(uniquePrefix('health-noredis'), sfnLocal.url, [{ activityArn, queue: 'noredis-q', pollers: 2 }], {
        REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
      }),
    );
    others.push(b);
    const res = await ready(b);
    expect(res.status).toBe(503);
    expect(Object.keys(res.body.error)).toEqual(['redis']);
    expect(res.body.info.stepFunctions).toBeUndefined();
    const body = res.body as HealthBody & { unknown: HealthBody['info']; details: HealthBody['info'] };
    expect(body.details.stepFunctions).toMatchObject({
      status: 'unknown',
      lastAnswerAt: null,
      reason: expect.stringMatching(/^no poll has run yet/),
    });
    expect(body.unknown.stepFunctions.status).toBe('unknown');
  });

  it('goes 503 naming Step Functions when no poll gets an answer for 15 s', async () => {
    const closed = await freePort();
    const b = await startBridge(
      bridgeEnv(uniquePrefix('health-nosfn'), `http://127.0.0.1:${closed}`, [{ activityArn, queue: 'nosfn-q', pollers: 2 }], {
        REDIS_URL: redis.url,
      }),
    );
    others.push(b);
    // Up (not yet judged down) once its polls are out, though none is answered.
    const early = await waitFor(
      async () => {
        const r = await ready(b);
        return r.body.info.stepFunctions?.status === 'up' ? r : undefined;
      },
      { timeoutMs: 5_000, intervalMs: 50, message: 'Step Functions up while the first polls are out' },
    );
    expect(early.body.info.stepFunctions.lastAnswerAt).toBeNull();
    const started = Date.now();
    const res = await waitFor(
      async () => {
        const r = await ready(b);
        return r.status === 503 && !r.body.error.redis ? r : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500, message: '/health/ready to answer 503 when Step Functions is unreachable' },
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(14_000);
    expect(Object.keys(res.body.error)).toEqual(['stepFunctions']);
    // The reason names the last error (ECONNREFUSED in the bundle; under jest the SDK wraps Node's
    // network errors as a plain "Error", another realm's Error class).
    expect(res.body.error.stepFunctions.reason).toMatch(/^Step Functions has not answered any poll for (1[5-9]|[2-9]\d) s \(\S+\)$/);
    expect(res.body.error.stepFunctions.lastAnswerAt).toBeNull();
  }, 45_000);
});
