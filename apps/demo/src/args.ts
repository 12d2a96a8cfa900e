import { parseArgs } from 'node:util';

export interface DemoArgs {
  /** Run a fixed batch, wait for it, exit 0 iff every execution ended as expected. */
  once: boolean;
  /** Executions of a `--once` batch. */
  count: number;
  /** Executions started per second. */
  rate: number;
  /** Bridge HTTP port (Bull Board); undefined = 3000, or a free port when 3000 is taken. */
  port: number | undefined;
  /** Emulator port; undefined = 8083, or a free port when 8083 is taken. */
  sfnPort: number | undefined;
  /** BullMQ prefix owned by the demo (cleared at start and exit). */
  prefix: string;
  /** Use an emulator, bridge and worker that already run (docker-compose). */
  spawn: boolean;
  /** Print the children's output, each line prefixed with the child's name. */
  verbose: boolean;
  /** `--once`: how long to wait for the batch to end (s). */
  timeoutSeconds: number;
  help: boolean;
}

export const HELP = `Usage: npm run demo -- [options]      (or: node dist/apps/demo/main.js [options])

Starts the local Step Functions emulator, the bridge and the example worker, creates the
charge-card activity and a state machine, and streams executions through them until Ctrl-C.

  --once               run a fixed batch, print the summary, exit 0 iff all ended as expected
  --count N            executions of a --once batch (default 100)
  --rate N             executions started per second (default 20)
  --port N             bridge HTTP port, Bull Board at /queues (default 3000, else a free port)
  --sfn-port N         emulator port (default 8083, else a free port)
  --prefix P           BullMQ prefix the demo owns and clears (default demo)
  --no-spawn           start nothing: use AWS_ENDPOINT_URL_SFN (default http://127.0.0.1:8083);
                       the bridge and the worker run elsewhere (docker-compose)
  --timeout S          --once: give up waiting for the batch after S seconds (default 120)
  --verbose            print the children's output, prefixed [sfn] [bridge] [worker]
  -h, --help           this text
Env: REDIS_URL (default redis://127.0.0.1:6379), AWS_ENDPOINT_URL_SFN (--no-spawn).`;

export class ArgsError extends Error {}

function int(name: string, v: string | undefined, dflt: number | undefined, min: number): number | undefined {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new ArgsError(`--${name} must be an integer >= ${min}, got '${v}'`);
  return n;
}

export function parseDemoArgs(argv: string[]): DemoArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        once: { type: 'boolean' },
        count: { type: 'string' },
        rate: { type: 'string' },
        port: { type: 'string' },
        'sfn-port': { type: 'string' },
        prefix: { type: 'string' },
        'no-spawn': { type: 'boolean' },
        timeout: { type: 'string' },
        verbose: { type: 'boolean', short: 'v' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    throw new ArgsError((e as Error).message);
  }
  const prefix = values.prefix ?? 'demo';
  if (!/^[A-Za-z0-9_.-]{1,100}$/.test(prefix)) throw new ArgsError(`--prefix must be 1..100 of A-Z a-z 0-9 _ . -, got '${prefix}'`);
  return {
    once: values.once ?? false,
    count: int('count', values.count, 100, 1)!,
    rate: int('rate', values.rate, 20, 1)!,
    port: int('port', values.port, undefined, 0),
    sfnPort: int('sfn-port', values['sfn-port'], undefined, 0),
    prefix,
    spawn: !(values['no-spawn'] ?? false),
    verbose: values.verbose ?? false,
    timeoutSeconds: int('timeout', values.timeout, 120, 1)!,
    help: values.help ?? false,
  };
}
