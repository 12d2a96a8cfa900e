import { SFNClient } from '@aws-sdk/client-sfn';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { AbortableHttpHandler, carryAbortSignals } from './call-abort';
import { throttleOnlyRetry } from './throttle-only-retry';
import { CALLBACK_REQUEST_TIMEOUT_MS, CONNECT_TIMEOUT_MS, POLL_REQUEST_TIMEOUT_MS } from './sfn.constants';

export interface SfnClientsOptions {
  region: string;
  /** Total concurrent long polls this process may park (sum of every binding's pollers). */
  pollers: number;
  /** Sockets for SendTask* calls (relay concurrency + heartbeats). */
  callbackSockets: number;
}

export interface SfnClients {
  poll: SFNClient;
  callback: SFNClient;
  heartbeat: SFNClient;
}

function agents(maxSockets: number) {
  const opts = { keepAlive: true, maxSockets, maxFreeSockets: Math.min(maxSockets, 256) };
  return { httpAgent: new HttpAgent(opts), httpsAgent: new HttpsAgent(opts) };
}

/**
 * Per-call work the SDK can skip because nothing changes between calls. `cacheMiddleware`: the
 * client resolves each command class's middleware stack once (clone, sort, wire ~20 middlewares)
 * instead of on every `send`; valid because no call here adds per-command middleware or passes
 * per-call options (any, even `{}`, resolves the stack again and drops the cache; a call that must
 * be abortable carries its signal on its input instead, see call-abort.ts). Measured: the stack
 * resolution was ~4-5 % of the bridge's CPU under load.
 */
export const HOT_PATH = { cacheMiddleware: true } as const;

/**
 * Two clients with separate socket pools (docs/design.md section 4): parked polls hold a socket for
 * up to 60 s each and would otherwise starve SendTask* calls queued behind them.
 * Region, credentials and `AWS_ENDPOINT_URL_SFN` come from the SDK's own resolution.
 */
export function createSfnClients(options: SfnClientsOptions): SfnClients {
  const poll = new SFNClient({
    ...HOT_PATH,
    region: options.region,
    // The poller owns retries (backoff with jitter, error classification); an SDK retry would
    // hide throttling from it.
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({
      ...agents(options.pollers + 8),
      connectionTimeout: CONNECT_TIMEOUT_MS,
      requestTimeout: POLL_REQUEST_TIMEOUT_MS,
      throwOnRequestTimeout: true,
    }),
  });
  const callbackHandler = new AbortableHttpHandler({
    ...agents(options.callbackSockets),
    connectionTimeout: CONNECT_TIMEOUT_MS,
    requestTimeout: CALLBACK_REQUEST_TIMEOUT_MS,
    throwOnRequestTimeout: true,
  });
  const callback = new SFNClient({
    ...HOT_PATH,
    region: options.region,
    // Retries only what provably did not land (throttling): a result sent again is a second result.
    retryStrategy: throttleOnlyRetry(3),
    requestHandler: callbackHandler,
  });
  // Heartbeats, on the same socket pool, make one attempt: the heartbeat schedule owns their
  // retries (the next tick, 250 ms), where an SDK retry would wait its backoff (throttling: up to
  // 1 s for the first retry) and leave the token silent past its bound.
  const heartbeat = new SFNClient({ ...HOT_PATH, region: options.region, maxAttempts: 1, requestHandler: callbackHandler });
  // The relay's sends are bounded by its job lock (an abort signal per call).
  carryAbortSignals(callback);
  return { poll, callback, heartbeat };
}
