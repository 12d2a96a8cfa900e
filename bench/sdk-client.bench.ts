/**
 * CPU per SDK call of the bridge's SFN client configuration against the SDK defaults, in one run:
 * SendTaskSuccess calls (BENCH_CONCURRENCY 32 in flight) against a trivial echo server on loopback,
 * with the SDK defaults, the bridge's configuration, and the latter with an abort signal per call
 * (as the relay sends) given as the SDK's call option or carried on the input (libs/sfn call-abort.ts),
 * the client's own process CPU per call, rounds alternating between the two configurations.
 *
 *   npx tsx bench/sdk-client.bench.ts     (env: BENCH_CALLS=5000 BENCH_ROUNDS=3)
 */
import { SendTaskSuccessCommand, SFNClient, SFNClientConfig } from '@aws-sdk/client-sfn';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { AbortableHttpHandler, carryAbortSignals, HOT_PATH, withAbortSignal } from '@bridge/sfn';
import { spawnServer } from './lib/raw-http';

const CALLS = Number(process.env.BENCH_CALLS ?? 5000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const TOKEN = 'A'.repeat(684);

/** How a call gets its abort signal: none, per-call options (the SDK's way), or carried on its input (call-abort.ts). */
type SignalWay = 'none' | 'call options' | 'carried';

async function round(config: Partial<SFNClientConfig>, way: SignalWay, url: string): Promise<number> {
  const client = new SFNClient({
    region: 'us-east-1',
    endpoint: url,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    requestHandler: new (way === 'carried' ? AbortableHttpHandler : NodeHttpHandler)({
      httpAgent: new Agent({ keepAlive: true, maxSockets: CONCURRENCY }),
    }),
    ...config,
  });
  if (way === 'carried') carryAbortSignals(client);
  // A fresh AbortSignal.timeout per call, as the relay sends.
  const send = () =>
    way === 'none'
      ? client.send(new SendTaskSuccessCommand({ taskToken: TOKEN, output: '{"ok":true}' }))
      : way === 'call options'
        ? client.send(new SendTaskSuccessCommand({ taskToken: TOKEN, output: '{"ok":true}' }), { abortSignal: AbortSignal.timeout(9_000) })
        : client.send(new SendTaskSuccessCommand(withAbortSignal({ taskToken: TOKEN, output: '{"ok":true}' }, AbortSignal.timeout(9_000))));
  await Promise.all(Array.from({ length: CONCURRENCY }, send)); // warm sockets and JIT
  const cpu0 = process.cpuUsage();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < CALLS) await send();
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  client.destroy();
  return (cpu.user + cpu.system) / 1000 / CALLS;
}

async function main(): Promise<void> {
  const echo = await spawnServer(['--import', 'tsx', join(__dirname, 'lib/echo-server.ts')], join(__dirname, '..'));
  try {
    // Any per-call options (even `{}`) make the SDK resolve the middleware stack again and drop
    // the client's handler cache; the last two variants price an abortable call both ways.
    const variants: [string, Partial<SFNClientConfig>, SignalWay][] = [
      ['SDK defaults', {}, 'none'],
      ['bridge (HOT_PATH)', HOT_PATH, 'none'],
      ['HOT_PATH, abortSignal as call option', HOT_PATH, 'call options'],
      ['HOT_PATH, abortSignal carried', HOT_PATH, 'carried'],
    ];
    const results = new Map<string, number[]>(variants.map(([n]) => [n, []]));
    for (let r = 0; r < ROUNDS; r++) for (const [name, cfg, way] of variants) results.get(name)!.push(await round(cfg, way, echo.url));
    const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
    const base = median(results.get('SDK defaults')!);
    for (const [name, v] of results) {
      console.log(
        `${name.padEnd(38)} CPU ms per call: median ${median(v).toFixed(3)} (rounds ${v.map((x) => x.toFixed(3)).join(', ')}); ratio ${(median(v) / base).toFixed(2)}`,
      );
    }
  } finally {
    echo.child.kill('SIGTERM');
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
