import { SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { EventEmitter, once } from 'node:events';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { withAbortSignal } from './call-abort';
import { createSfnClients, SfnClients } from './sfn-clients.factory';

/**
 * The callback client's abort signals, over real HTTP against a local server that answers, throttles
 * or holds each SendTaskSuccess by its token.
 */
describe('abort signals on callback calls', () => {
  let server: Server;
  let clients: SfnClients;
  const closedUnanswered: string[] = [];
  const closes = new EventEmitter();
  const attempts = new Map<string, number>();
  const saved = { ...process.env };

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const token = (JSON.parse(body) as { taskToken: string }).taskToken;
        const n = (attempts.get(token) ?? 0) + 1;
        attempts.set(token, n);
        if (token.startsWith('ok')) return void res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{}');
        if (token.startsWith('throttled') && n === 1) {
          return void res
            .writeHead(400, { 'content-type': 'application/x-amz-json-1.0' })
            .end(JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' }));
        }
        // Held: never answered; the client side closing it is what an abort looks like here.
        res.on('close', () => {
          closedUnanswered.push(`${token}#${n}`);
          closes.emit(`${token}#${n}`);
        });
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_SFN: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      AWS_ACCESS_KEY_ID: 'x',
      AWS_SECRET_ACCESS_KEY: 'x',
    });
    clients = createSfnClients({ region: 'us-east-1', pollers: 1, callbackSockets: 4 });
  });

  afterAll(async () => {
    process.env = saved;
    for (const c of Object.values(clients)) c.destroy();
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });

  const send = (taskToken: string, signal?: AbortSignal) =>
    clients.callback.send(new SendTaskSuccessCommand(withAbortSignal({ taskToken, output: '{}' }, signal)));

  it('aborts a held send when its signal fires, and resolves the middleware stack once for every send', async () => {
    const resolved = jest.spyOn(SendTaskSuccessCommand.prototype, 'resolveMiddleware');
    try {
      await send('ok-1', new AbortController().signal);
      await send('ok-2');
      const started = Date.now();
      const error = await send('held-1', AbortSignal.timeout(200)).then(
        () => undefined,
        (err: Error) => err,
      );
      expect({ error: error?.name, tookLessThan5s: Date.now() - started < 5_000 }).toEqual({ error: 'AbortError', tookLessThan5s: true });
      await waitForClose('held-1#1');
      await send('ok-3', new AbortController().signal);
      // One resolution for the whole test: per-call options would have resolved it for every send.
      expect({ resolutions: resolved.mock.calls.length }).toEqual({ resolutions: 1 });
    } finally {
      resolved.mockRestore();
    }
  });

  it('keeps the signal on the attempt the SDK retries after throttling', async () => {
    const error = await send('throttled-1', AbortSignal.timeout(1_500)).then(
      () => undefined,
      (err: Error) => err,
    );
    expect({ error: error?.name, attempts: attempts.get('throttled-1') }).toEqual({ error: 'AbortError', attempts: 2 });
    await waitForClose('throttled-1#2');
  });

  async function waitForClose(id: string): Promise<void> {
    if (closedUnanswered.includes(id)) return;
    await Promise.race([
      once(closes, id),
      new Promise((_, reject) =>
        setTimeout(
          () => reject(new Error(`request ${id} was not closed by the client in 5 s; closed: ${JSON.stringify(closedUnanswered)}`)),
          5_000,
        ).unref(),
      ),
    ]);
  }
});
