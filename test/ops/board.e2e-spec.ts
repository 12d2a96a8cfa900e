import { SFNClient } from '@aws-sdk/client-sfn';
import { BRIDGE_NAMESPACE } from '@bridge/config';
import { jobIdForToken } from '@bridge/queue';
import { Job, Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { SfnLocal, startSfnLocal } from '../../apps/sfn-local/src';
import { bridgeEnv, InProcessBridge, startBridge } from '../support/bridge';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../support/redis';
import { createActivityMachine, startExecution, testSfnClient, waitForExecution } from '../support/sfn';
import { listTaskRecords, waitForClose } from '../support/task-records';
import { waitFor } from '../support/wait-for';
import { get, send } from './ops-http';

interface ApiQueue {
  name: string;
  readOnlyMode: boolean;
  jobs: { id: string; data: unknown }[];
}

const USER = 'ops';
const PASSWORD = 'board-secret-7';
const auth = { user: USER, password: PASSWORD };

/**
 * Bull Board on the bridge's port: the binding queues only (the tasks' jobs hold their input; the
 * tokens are in the task records, which the board does not show), basic auth when a password is
 * set, read-only without one, off with BULL_BOARD_ENABLED=false.
 */
describe('Bull Board at /queues', () => {
  let sfnLocal: SfnLocal;
  let sfn: SFNClient;
  let connection: IORedis;
  let bridge: InProcessBridge;
  let disabled: InProcessBridge;
  let open: InProcessBridge;
  let payments: Awaited<ReturnType<typeof createActivityMachine>>;
  const prefix = uniquePrefix('board');
  const disabledPrefix = uniquePrefix('board-off');
  const openPrefix = uniquePrefix('board-open');

  beforeAll(async () => {
    sfnLocal = await startSfnLocal({ pollSeconds: 1, quiet: true });
    sfn = testSfnClient(sfnLocal.url);
    connection = new IORedis(REDIS_URL, { maxRetriesPerRequest: null });
    payments = await createActivityMachine(sfn, 'board-pay');
    const refunds = await createActivityMachine(sfn, 'board-refund');
    bridge = await startBridge(
      bridgeEnv(
        prefix,
        sfnLocal.url,
        [
          { activityArn: payments.activityArn, queue: 'board-payments', pollers: 2 },
          { activityArn: refunds.activityArn, queue: 'board-refunds', pollers: 1 },
        ],
        { BULL_BOARD_USER: USER, BULL_BOARD_PASSWORD: PASSWORD },
      ),
    );
    disabled = await startBridge(
      bridgeEnv(disabledPrefix, sfnLocal.url, [{ activityArn: refunds.activityArn, queue: 'off-q', pollers: 1 }], {
        BULL_BOARD_ENABLED: 'false',
      }),
    );
    open = await startBridge(bridgeEnv(openPrefix, sfnLocal.url, [{ activityArn: refunds.activityArn, queue: 'open-q', pollers: 1 }]));
  });

  afterAll(async () => {
    await bridge?.close();
    await disabled?.close();
    await open?.close();
    await connection?.quit();
    await sfnLocal?.close();
    sfn?.destroy();
    await cleanupPrefix(prefix);
    await cleanupPrefix(disabledPrefix);
    await cleanupPrefix(openPrefix);
  });

  it('serves its page to the configured user', async () => {
    const res = await get(`${bridge.url}/queues`, auth);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(res.text).toContain('sfn-bullmq-bridge');
  });

  it('refuses a missing or wrong password with 401 and a basic-auth challenge, on the page and the API', async () => {
    for (const path of ['/queues', '/queues/api/queues']) {
      const none = await get(`${bridge.url}${path}`);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Basic realm="sfn-bullmq-bridge"/);
      expect((await get(`${bridge.url}${path}`, { user: USER, password: 'wrong' })).status).toBe(401);
      expect((await get(`${bridge.url}${path}`, { user: 'admin', password: PASSWORD })).status).toBe(401);
    }
  });

  it('leaves /health, /health/ready and /metrics open while the board asks for a password', async () => {
    expect((await get(`${bridge.url}/health`)).status).toBe(200);
    const ready = await waitFor(async () => ((await get(`${bridge.url}/health/ready`)).status === 200 ? true : undefined), {
      timeoutMs: 10_000,
      intervalMs: 200,
      message: '/health/ready to answer 200 without credentials',
    });
    expect(ready).toBe(true);
    const metrics = await get(`${bridge.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain('sfn_bridge_redis_up');
  });

  it("lists the binding queues in its API, and nothing of the bridge's own keys", async () => {
    const res = await get(`${bridge.url}/queues/api/queues`, auth);
    expect(res.status).toBe(200);
    const queues = res.json<{ queues: ApiQueue[] }>().queues;
    expect(queues.map((q) => q.name).sort()).toEqual(['board-payments', 'board-refunds']);
    expect(res.text).not.toContain(BRIDGE_NAMESPACE);
  });

  it('never shows a whole task token through its API, while the task waits and after it is relayed', async () => {
    const executionArn = await startExecution(sfn, payments.stateMachineArn, { orderId: 'board-1' });
    // No consumer yet: the job waits; its task record holds the token.
    const record = await waitFor(async () => [...(await listTaskRecords(connection, prefix)).values()].find((r) => r.token), {
      timeoutMs: 10_000,
      message: 'the task record of the execution to be written',
    });
    const token = record.token;
    expect(token.length).toBeGreaterThan(100);
    const id = record.jobId;
    expect(id).toBe(jobIdForToken(token));

    const apiTexts = async (status: string) => [
      (await get(`${bridge.url}/queues/api/queues`, auth)).text,
      (await get(`${bridge.url}/queues/api/queues?activeQueue=board-payments&status=${status}&page=1`, auth)).text,
      (await get(`${bridge.url}/queues/api/queues?activeQueue=board-payments&status=latest&page=1`, auth)).text,
      (await get(`${bridge.url}/queues/api/queues/board-payments/${id}`, auth)).text,
      (await get(`${bridge.url}/queues/api/queues/board-payments/${id}/flow`, auth)).text,
      (await get(`${bridge.url}/queues/api/queues/board-payments/${id}/logs`, auth)).text,
      // The bridge's own namespace is no queue of the board.
      (await get(`${bridge.url}/queues/api/queues/${BRIDGE_NAMESPACE}/${id}`, auth)).text,
    ];
    const expectNoToken = (texts: string[]) => {
      const joined = texts.join('\n');
      expect(joined).toContain(id); // the right job was shown
      expect(joined).toContain('"orderId":"board-1"'); // with its data: the task input, and only that
      expect(joined).not.toContain('taskToken');
      expect(joined).not.toContain(token);
      expect(joined).not.toContain(token.slice(0, 64));
      expect(joined).not.toContain(token.slice(-64));
    };
    expectNoToken(await apiTexts('waiting'));

    const worker = new Worker('board-payments', async (job: Job) => ({ charged: job.data.orderId }), { connection, prefix });
    try {
      expect((await waitForExecution(sfn, executionArn)).status).toBe('SUCCEEDED');
      expect(await waitForClose(connection, prefix, id, 10_000)).toEqual({ status: 'relayed', reason: 'success' });
      expectNoToken(await apiTexts('completed'));
    } finally {
      await worker.close();
    }
  });

  it('refuses every action on every queue (405) when no password is set, and lists each queue read-only', async () => {
    const queues = (await get(`${open.url}/queues/api/queues`)).json<{ queues: ApiQueue[] }>().queues;
    expect(queues.map((q) => [q.name, q.readOnlyMode])).toEqual([['open-q', true]]);
    const openQueue = new Queue('open-q', { connection, prefix: openPrefix });
    const job = await openQueue.add('x', { n: 1 }, { delay: 60_000 });
    const actions = [
      ['PUT', `/queues/api/queues/open-q/retry/failed`],
      ['PUT', `/queues/api/queues/open-q/promote`],
      ['PUT', `/queues/api/queues/open-q/clean/delayed`],
      ['PUT', `/queues/api/queues/open-q/${job.id}/promote`],
      ['PUT', `/queues/api/queues/open-q/${job.id}/clean`],
      ['PUT', `/queues/api/queues/open-q/${job.id}/retry`],
    ];
    const answers = await Promise.all(actions.map(async ([method, path]) => [path, (await send(method, `${open.url}${path}`)).status]));
    expect(answers).toEqual(actions.map(([, path]) => [path, 405]));
    expect(await job.getState()).toBe('delayed'); // nothing happened to it
    await openQueue.close();
  });

  it('lets the configured user act when a password is set (promote and clean a job)', async () => {
    const queues = (await get(`${bridge.url}/queues/api/queues`, auth)).json<{ queues: ApiQueue[] }>().queues;
    expect(queues.find((q) => q.name === 'board-refunds')?.readOnlyMode).toBe(false);
    const refunds = new Queue('board-refunds', { connection, prefix });
    try {
      const job = await refunds.add('x', { n: 2 }, { delay: 60_000 });
      expect((await send('PUT', `${bridge.url}/queues/api/queues/board-refunds/${job.id}/promote`)).status).toBe(401);
      expect((await send('PUT', `${bridge.url}/queues/api/queues/board-refunds/${job.id}/promote`, auth)).status).toBe(204);
      const removed = await refunds.add('y', { n: 3 }, { delay: 60_000 });
      expect((await send('PUT', `${bridge.url}/queues/api/queues/board-refunds/${removed.id}/clean`, auth)).status).toBe(204);
      expect(await refunds.getJob(removed.id!)).toBeUndefined();
    } finally {
      await refunds.close();
    }
  });

  it('serves the board without credentials when no password is set', async () => {
    expect((await get(`${open.url}/queues`)).status).toBe(200);
    const res = await get(`${open.url}/queues/api/queues`);
    expect(res.status).toBe(200);
    expect(
      res
        .json<{ queues: ApiQueue[] }>()
        .queues.map((q) => q.name)
        .sort(),
    ).toEqual(['open-q']);
  });

  it('answers 404 at /queues when BULL_BOARD_ENABLED=false, and still serves health and metrics', async () => {
    expect((await get(`${disabled.url}/queues`)).status).toBe(404);
    expect((await get(`${disabled.url}/queues/api/queues`)).status).toBe(404);
    expect((await get(`${disabled.url}/health`)).status).toBe(200);
    expect((await get(`${disabled.url}/metrics`)).status).toBe(200);
  });
});
