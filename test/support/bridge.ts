import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { BridgeConfig, loadConfig } from '@bridge/config';
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { AppModule } from '../../apps/bridge/src/app.module';
import { REDIS_URL } from './redis';
import { within } from './wait-for';

export interface BindingSpec {
  activityArn: string;
  queue: string;
  [key: string]: unknown;
}

/** Bridge env for tests: the real config loader, fed inline bindings. */
export function bridgeEnv(prefix: string, sfnUrl: string, bindings: BindingSpec[], extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    REDIS_URL,
    BULLMQ_PREFIX: prefix,
    PORT: '0',
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_SFN: sfnUrl,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    BRIDGE_BINDINGS: JSON.stringify({ bindings }),
    LOG_LEVEL: 'warn',
    RELAY_BACKOFF_MS: '200',
    SHUTDOWN_DRAIN_TIMEOUT_MS: '15000',
    ...extra,
  };
}

export interface InProcessBridge {
  app: INestApplication;
  config: BridgeConfig;
  url: string;
  close(): Promise<void>;
}

/** Starts the bridge in this process (same modules as apps/bridge/src/main.ts). */
export async function startBridge(env: NodeJS.ProcessEnv): Promise<InProcessBridge> {
  // The SDK reads AWS_ENDPOINT_URL_SFN from the process environment when a client is created.
  process.env.AWS_ENDPOINT_URL_SFN = env.AWS_ENDPOINT_URL_SFN;
  const config = loadConfig(env);
  const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot(config)] }).compile();
  const app = moduleRef.createNestApplication({ logger: ['error', 'warn'] });
  app.enableShutdownHooks();
  await app.listen(0, '127.0.0.1');
  const url = await app.getUrl();
  return { app, config, url: url.replace('[::1]', '127.0.0.1'), close: () => app.close() };
}

export interface BridgeProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

const BRIDGE_MAIN = join(__dirname, '../../dist/apps/bridge/main.js');

/** Runs the built bridge (`npm run build`) as a child process, capturing its output. */
export function spawnBridge(env: NodeJS.ProcessEnv): BridgeProcess {
  const child = spawn(process.execPath, [BRIDGE_MAIN], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    out += chunk.toString();
    listeners.forEach((l) => l());
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exited,
    waitForOutput(pattern, timeoutMs = 20_000) {
      const found = new Promise<string>((resolve) => {
        const check = () => {
          const m = out.match(pattern);
          if (m) {
            listeners.delete(check);
            resolve(m[0]);
          }
        };
        listeners.add(check);
        check();
      });
      return within(found, timeoutMs, `bridge output matching ${pattern}\n--- output ---\n${out.slice(-3000)}`);
    },
  };
}
