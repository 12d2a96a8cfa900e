import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { ACTIONS, Emulator } from './emulator';
import { SfnError, unknownOperation } from './errors';
import { replyError, replyJson } from './http-reply';
import { handleLocal } from './local-hooks';

const TARGET_PREFIX = 'AWSStepFunctions.';
const MAX_BODY = 4 * 1024 * 1024;

const THROTTLED = new SfnError('ThrottlingException', 'Rate exceeded');
const INTERNAL = new SfnError('InternalFailure', 'Injected fault: internal failure', 500);
const UNAVAILABLE = new SfnError('ServiceUnavailable', 'Injected fault: service unavailable', 503);

/** The HTTP front: awsJson1_0 on `POST /`, JSON test hooks under `/_local/`. */
export function createSfnServer(emu: Emulator, log: (msg: string) => void): Server {
  const server = createServer((req, res) => {
    let data = '';
    let tooBig = false;
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      if (tooBig) return;
      data += chunk;
      if (data.length > MAX_BODY) tooBig = true;
    });
    req.on('end', () => {
      const url = req.url ?? '/';
      if (url.startsWith('/_local/')) return handleLocal(emu, req, res, url, data);
      if (req.method !== 'POST' || (url !== '/' && !url.startsWith('/?'))) {
        return replyJson(res, 404, '{"__type":"UnknownOperationException","message":"Not found"}');
      }
      if (tooBig) return replyError(res, new SfnError('ValidationException', `Request body larger than ${MAX_BODY} bytes`, 413));
      aws(emu, req, res, data, log);
    });
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 0;
  server.timeout = 0;
  return server;
}

function aws(emu: Emulator, req: IncomingMessage, res: ServerResponse, data: string, log: (m: string) => void): void {
  const target = req.headers['x-amz-target'];
  // An action only counts with the service prefix; anything else is an unknown operation.
  const action =
    typeof target === 'string' && target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : `(${String(target ?? 'none')})`;
  emu.counters.call(action);
  if (!emu.faults.active) return run(emu, action, data, res, log);
  const d = emu.faults.decide(action, (kind) => emu.counters.fault(kind));
  const go = () => {
    switch (d.fault) {
      case undefined:
        return run(emu, action, data, res, log);
      case 'drop':
        emu.counters.error(action, 'Dropped');
        return void req.socket.destroy();
      case 'throttle':
        return fail(emu, action, res, THROTTLED);
      case 'http500':
        emu.counters.error(action, 'HTTP500');
        return replyError(res, INTERNAL);
      case 'http503':
        emu.counters.error(action, 'HTTP503');
        return replyError(res, UNAVAILABLE);
    }
  };
  if (d.latencyMs > 0) setTimeout(go, d.latencyMs);
  else go();
}

function run(emu: Emulator, action: string, data: string, res: ServerResponse, log: (m: string) => void): void {
  try {
    const fn = Object.hasOwn(ACTIONS, action) ? ACTIONS[action] : undefined;
    if (!fn) throw unknownOperation(action);
    let body: Record<string, unknown>;
    try {
      body = data.length ? JSON.parse(data) : {};
    } catch {
      throw new SfnError('SerializationException', 'Request body is not valid JSON');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new SfnError('SerializationException', 'Request body must be a JSON object');
    const out = fn(emu, body, res);
    if (out !== undefined) replyJson(res, 200, JSON.stringify(out));
  } catch (e) {
    if (e instanceof SfnError) return fail(emu, action, res, e);
    log(`sfn-local: ${action} failed: ${(e as Error).stack ?? String(e)}`);
    fail(emu, action, res, new SfnError('InternalFailure', 'Internal error in sfn-local', 500));
  }
}

function fail(emu: Emulator, action: string, res: ServerResponse, err: SfnError): void {
  emu.counters.error(action, err.type);
  replyError(res, err);
}
