import { join } from 'node:path';
import { ACTIVITY_NAME, DEMO_ACTIVITY_ARN, QUEUE } from './scenario';
import { choosePort, waitForHttp } from './ports';
import { BRIDGE_NODE_FLAGS, type ManagedChild } from '@bridge/common';
import { Supervisor } from './supervisor';

/** Emulator poll hold: short, so the bridge drains its parked polls within seconds on shutdown. */
const POLL_SECONDS = 5;
const READY_TIMEOUT_MS = 30_000;

export interface LocalStackOptions {
  root: string;
  redisUrl: string;
  prefix: string;
  port: number | undefined;
  sfnPort: number | undefined;
  note: (text: string) => void;
}

/** The environment a child inherits: the user's, minus what would override the demo's own settings. */
function baseEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['BRIDGE_CONFIG', 'PORT', 'AWS_PROFILE', 'AWS_SESSION_TOKEN']) delete env[k];
  return env;
}

const localAws = (sfnUrl: string) => ({
  AWS_REGION: 'us-east-1',
  AWS_ENDPOINT_URL_SFN: sfnUrl,
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
});

function bindings(): string {
  return JSON.stringify({
    bindings: [
      {
        activityArn: DEMO_ACTIVITY_ARN,
        queue: QUEUE,
        jobName: ACTIVITY_NAME,
        pollers: 8,
        maxPending: 200,
        attempts: 1, // a declined card stays declined: no retry
        heartbeatSeconds: 20, // below the Task state's HeartbeatSeconds (60)
        jobOptions: { removeOnComplete: 1000, removeOnFail: 1000 },
      },
    ],
  });
}

/** Starts the emulator and waits for its "listening on <url>" line; returns the URL. */
export async function startEmulator(sup: Supervisor, o: LocalStackOptions): Promise<string> {
  const sfnPort = await choosePort(o.sfnPort, 8083, '127.0.0.1');
  if (sfnPort.note) o.note(`emulator: ${sfnPort.note}`);
  const sfn = sup.start({
    name: 'sfn',
    cwd: o.root,
    env: baseEnv(),
    args: [
      join(o.root, 'dist/apps/sfn-local/main.js'),
      '--port',
      String(sfnPort.port),
      '--poll-seconds',
      String(POLL_SECONDS),
      '--region',
      'us-east-1',
      '--account-id',
      '123456789012',
    ],
  });
  const sfnUrl = (await sfn.waitForLine(/listening on (http:\/\/\S+)/, READY_TIMEOUT_MS))[1];
  o.note(`emulator ready at ${sfnUrl} (poll hold ${POLL_SECONDS} s)`);
  return sfnUrl;
}

/**
 * Starts the bridge, then the worker, each waited for until ready; returns the Bull Board URL.
 * Call it once the activity exists: a bridge that finds none backs off for a long while.
 */
export async function startBridgeAndWorker(sup: Supervisor, o: LocalStackOptions, sfnUrl: string): Promise<string> {
  const httpPort = await choosePort(o.port, 3000);
  if (httpPort.note) o.note(`bridge: ${httpPort.note}`);
  const bridge = sup.start({
    name: 'bridge',
    cwd: o.root,
    env: {
      ...baseEnv(),
      ...localAws(sfnUrl),
      PORT: String(httpPort.port),
      REDIS_URL: o.redisUrl,
      BULLMQ_PREFIX: o.prefix,
      BRIDGE_BINDINGS: bindings(),
      WORKER_NAME: `demo-bridge-${process.pid}`,
      HEARTBEAT_DEFAULT_SECONDS: '20',
      SHUTDOWN_DRAIN_TIMEOUT_MS: String((POLL_SECONDS + 5) * 1000),
      LOG_LEVEL: process.env.LOG_LEVEL || 'info',
    },
    args: [...BRIDGE_NODE_FLAGS, join(o.root, 'dist/apps/bridge/main.js')],
  });
  const boardUrl = `http://localhost:${httpPort.port}/queues`;
  // 401: Bull Board is there, behind the BULL_BOARD_PASSWORD the user set.
  await waitForHttp(`http://127.0.0.1:${httpPort.port}/queues`, {
    timeoutMs: READY_TIMEOUT_MS,
    okStatuses: [200, 401],
    abort: exitedReason(bridge),
  });
  o.note(`bridge ready on port ${httpPort.port}`);

  const worker = sup.start({
    name: 'worker',
    cwd: o.root,
    env: { ...baseEnv(), REDIS_URL: o.redisUrl, BULLMQ_PREFIX: o.prefix, QUEUE, CONCURRENCY: '32' },
    args: [join(o.root, 'examples/node-worker/worker.js')],
  });
  await worker.waitForLine(/node-worker: consuming/, READY_TIMEOUT_MS);
  o.note(`worker ready on queue "${QUEUE}" (prefix "${o.prefix}")`);
  return boardUrl;
}

const exitedReason = (c: ManagedChild) => () => (c.running ? undefined : `${c.name} exited (${c.describeExit()}) before it was ready`);

/** How long a child may take to stop after SIGTERM before it is killed. */
export function stopGraceMs(child: ManagedChild): number {
  return child.name === 'bridge' ? (POLL_SECONDS + 10) * 1000 : 10_000;
}
