import { DemoError } from './demo-error';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ArgsError, DemoArgs, HELP, parseDemoArgs } from './args';
import { ExecutionStream } from './execution-stream';
import { ExecutionsTracker } from './executions-tracker';
import { startBridgeAndWorker, startEmulator, stopGraceMs } from './local-stack';
import { formatCounts, ProgressPrinter } from './progress-printer';
import { chooseRedis, clearPrefix } from './redis-prefix';
import { ManagedChild, redactRedisUrl, sleep } from '@bridge/common';
import { createScenario, DEMO_ACTIVITY_ARN } from './scenario';
import { demoSfnClient, waitForSfn } from './sfn-client';
import { onStopSignals } from './shutdown-signals';
import { renderSummary } from './summary';
import { Supervisor } from './supervisor';

const CHILD_TAIL_LINES = 40;
const STREAM_DRAIN_MS = 10_000;

class ChildDied extends Error {
  constructor(readonly child: ManagedChild) {
    super(`${child.name} exited unexpectedly (${child.describeExit()})`);
  }
}

class Interrupted extends Error {}

/** The repository root: dist/apps/demo/main.js -> ../../.., else the working directory. */
function repoRoot(): string {
  const fromBundle = resolve(__dirname, '../../..');
  return existsSync(join(fromBundle, 'package.json')) ? fromBundle : process.cwd();
}

async function until(cond: () => boolean, timeoutMs: number, interrupt: Promise<unknown>): Promise<boolean> {
  let interrupted = false;
  void interrupt.then(
    () => (interrupted = true),
    () => (interrupted = true),
  );
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (interrupted || Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

async function run(args: DemoArgs): Promise<number> {
  const root = repoRoot();
  let redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  let privateRedis = false;
  const runId = `demo-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
  let tracker: ExecutionsTracker | undefined;
  const printer = new ProgressPrinter(() => formatCounts(tracker!.counts, tracker!.throughput()));
  const note = (t: string) => printer.log(`demo: ${t}`);

  let childDied!: (c: ManagedChild) => void;
  const died = new Promise<never>((_, reject) => (childDied = (c) => reject(new ChildDied(c))));
  died.catch(() => undefined); // observed through the races below
  const sup = new Supervisor(
    (c, line) => args.verbose && printer.log(`[${c.name}] ${line}`),
    (c) => childDied(c),
  );
  const signals = onStopSignals(() => sup.killAll());
  const guard = <T>(p: Promise<T>) => Promise.race([p, died]);
  // Start-up steps also give way to Ctrl-C.
  const interrupted = signals.requested.then((sig) => Promise.reject(new Interrupted(`${sig} during start-up`)));
  interrupted.catch(() => undefined);
  const startup = <T>(p: Promise<T>) => Promise.race([p, died, interrupted]);

  const stackOpts = () => ({ root, redisUrl, prefix: args.prefix, port: args.port, sfnPort: args.sfnPort, note });
  let boardUrl: string | undefined;
  let exitCode = 1;
  let stream: ExecutionStream | undefined;
  try {
    printer.log('sfn-bullmq-bridge demo: Step Functions activity -> bridge -> BullMQ -> worker -> back');
    note(`Node ${process.version} (${process.execPath}); the emulator, bridge and worker run on the same binary`);
    let sfnUrl: string;
    if (args.spawn) {
      for (const f of ['dist/apps/sfn-local/main.js', 'dist/apps/bridge/main.js']) {
        if (!existsSync(join(root, f))) throw new DemoError(`${f} is missing: run \`npm run build\` first (or \`npm run demo\`)`);
      }
      ({ url: redisUrl, private: privateRedis } = await startup(chooseRedis(redisUrl, (r) => sup.adopt(r), note)));
      const cleared = await startup(clearPrefix(redisUrl, args.prefix));
      note(`Redis ${redactRedisUrl(redisUrl)}, BullMQ prefix "${args.prefix}"${cleared ? ` (cleared ${cleared} old keys)` : ''}`);
      sfnUrl = await startup(startEmulator(sup, stackOpts()));
    } else {
      sfnUrl = process.env.AWS_ENDPOINT_URL_SFN || 'http://127.0.0.1:8083';
      boardUrl = `http://localhost:${args.port || 3000}/queues`;
    }
    const sfn = demoSfnClient(sfnUrl);
    await startup(waitForSfn(sfn, sfnUrl, args.spawn ? 5 : 30, note));
    // The activity first: a bridge polling an activity that does not exist yet backs off for long.
    const { activityArn, stateMachineArn } = await startup(createScenario(sfn));
    if (activityArn !== DEMO_ACTIVITY_ARN) {
      note(
        `WARNING: activity ARN ${activityArn} is not the bound ${DEMO_ACTIVITY_ARN} (docker/bindings.demo.yaml): the bridge will not see these tasks`,
      );
    }
    note(`activity ${activityArn}`);
    note(`state machine ${stateMachineArn} (Task: TimeoutSeconds 300, HeartbeatSeconds 60; Catch PaymentDeclined -> Fail)`);
    if (args.spawn) boardUrl = await startup(startBridgeAndWorker(sup, stackOpts(), sfnUrl));
    else note('a bridge that started before the activity existed picks the tasks up after its slow retry (up to ~30 s)');
    note(`Bull Board: ${boardUrl}`);
    note(
      `${args.once ? `starting ${args.count} executions` : 'starting executions'} at ${args.rate}/s ` +
        `(~10% declined cards, ~10% slow with progress)${args.once ? '' : '; Ctrl-C to stop'}`,
    );

    tracker = new ExecutionsTracker(sfn);
    const t = tracker;
    stream = new ExecutionStream(sfn, stateMachineArn, t, runId, args.rate, args.once ? args.count : undefined);
    t.start();
    stream.start();
    printer.start();

    let interruptedBy: string | undefined;
    void signals.requested.then((s) => (interruptedBy = s));
    if (args.once) {
      const all = (async () => {
        await Promise.race([stream!.finished, signals.requested]);
        return until(() => t.counts.running === 0, args.timeoutSeconds * 1000, signals.requested);
      })();
      const done = await guard(all);
      if (!done && !interruptedBy) note(`gave up waiting after ${args.timeoutSeconds} s`);
    } else {
      await guard(signals.requested);
    }
    await stream.stop();
    if (interruptedBy) {
      note(`${interruptedBy}: no new executions; waiting up to ${STREAM_DRAIN_MS / 1000} s for ${t.counts.running} running`);
      await guard(until(() => t.counts.running === 0, STREAM_DRAIN_MS, new Promise(() => undefined)));
    }
    printer.stop();
    t.stop();
    sfn.destroy();
    const c = t.counts;
    exitCode = args.once ? (c.unexpected === 0 && c.succeeded + c.declined === args.count ? 0 : 1) : 0;
  } catch (e) {
    printer.stop();
    tracker?.stop();
    await stream?.stop();
    const dead = e instanceof ChildDied ? e.child : sup.diedUnexpectedly;
    exitCode = 1;
    if (e instanceof Interrupted && !dead) {
      process.stdout.write(`demo: ${e.message}, stopping\n`);
      exitCode = args.once ? 1 : 0;
    } else if (dead) {
      process.stderr.write(`demo: ${dead.name} exited unexpectedly (${dead.describeExit()}); its last ${CHILD_TAIL_LINES} lines:\n`);
      for (const l of dead.lastLines(CHILD_TAIL_LINES)) process.stderr.write(`  [${dead.name}] ${l}\n`);
    } else if (e instanceof DemoError) {
      process.stderr.write(`demo: ${e.message}\n`);
    } else {
      process.stderr.write(`demo: ${(e as Error)?.stack ?? String(e)}\n`);
    }
  }

  await sup.stopAll(stopGraceMs, (c) => process.stdout.write(`demo: stopping ${c.name}\n`));
  signals.dispose();
  if (args.spawn && !privateRedis) await clearPrefix(redisUrl, args.prefix).catch(() => undefined);
  if (tracker) {
    process.stdout.write(
      `${renderSummary(tracker, { mode: args.once ? 'once' : 'stream', boardUrl, expected: args.once ? args.count : undefined })}\n`,
    );
    if (args.once)
      process.stdout.write(
        exitCode === 0 ? 'demo: OK, every execution ended as expected\n' : 'demo: FAILED, see the unexpected executions above\n',
      );
  }
  return exitCode;
}

function main(): void {
  let args: DemoArgs;
  try {
    args = parseDemoArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof ArgsError)) throw e;
    process.stderr.write(`demo: ${e.message}\n${HELP}\n`);
    process.exit(2);
  }
  if (args.help) return void process.stdout.write(`${HELP}\n`);
  run(args).then(
    (code) => process.exit(code),
    (e: Error) => {
      process.stderr.write(`demo: ${e?.stack ?? String(e)}\n`);
      process.exit(1); // the supervisor's exit hook kills any child left
    },
  );
}

main();
