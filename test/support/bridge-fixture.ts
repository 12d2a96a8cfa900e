import { SFNClient } from '@aws-sdk/client-sfn';
import { Processor, Queue, Worker, WorkerOptions } from 'bullmq';
import IORedis from 'ioredis';
import { SfnLocal, startSfnLocal } from '../../apps/sfn-local/src';
import { bridgeEnv, BindingSpec, InProcessBridge, startBridge } from './bridge';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from './redis';
import { createActivityMachine, TaskStateOptions, testSfnClient } from './sfn';

export interface BridgeFixtureOptions {
  /** Label of the BullMQ prefix; also the default activity label and queue name. */
  label: string;
  /** Label of the activity and its state machine (default `label`). */
  activity?: string;
  /** Queue of the binding (default `label`). */
  queue?: string;
  /** The binding's other fields (pollers, maxPending, heartbeatSeconds, ...). */
  binding?: Omit<BindingSpec, 'activityArn' | 'queue'>;
  /** Extra bridge environment, over `bridgeEnv`'s defaults. */
  env?: Record<string, string>;
  /** The emulator's long-poll hold (default 2). */
  pollSeconds?: number;
  /** Timeouts of the machine's Task state. */
  task?: TaskStateOptions;
  /**
   * A Redis the caller owns (e.g. a private one it stops and restarts): the bridge uses it, the
   * fixture opens no connection of its own and leaves its keys alone. Default: the shared test
   * Redis, with `connection` open and the prefix's keys deleted on close.
   */
  redisUrl?: string;
  /**
   * Close the emulator before the bridge: it answers parked polls on close, so a long hold does
   * not hold up the bridge's drain.
   */
  closeEmulatorFirst?: boolean;
}

interface Closeable {
  close(): Promise<unknown>;
}

/**
 * The usual e2e setup: the emulator, a test SDK client, a unique prefix, an activity with its
 * state machine, an in-process bridge with one binding, and a Redis connection. `close()` tears
 * all of it down in order (tracked workers and queues first), running every step and throwing
 * what failed.
 */
export class BridgeFixture {
  readonly prefix: string;
  readonly queue: string;
  sfnLocal: SfnLocal;
  sfn: SFNClient;
  machine: Awaited<ReturnType<typeof createActivityMachine>>;
  bridge: InProcessBridge;
  /** Shared connection to the test Redis (`maxRetriesPerRequest: null`); absent with `redisUrl`. */
  connection: IORedis;
  private readonly tracked: Closeable[] = [];
  private closing?: Promise<void>;

  private constructor(private readonly opts: BridgeFixtureOptions) {
    this.prefix = uniquePrefix(opts.label);
    this.queue = opts.queue ?? opts.label;
  }

  static async start(opts: BridgeFixtureOptions): Promise<BridgeFixture> {
    const fx = new BridgeFixture(opts);
    try {
      fx.sfnLocal = await startSfnLocal({ pollSeconds: opts.pollSeconds ?? 2, quiet: true });
      fx.sfn = testSfnClient(fx.sfnLocal.url);
      fx.machine = await createActivityMachine(fx.sfn, opts.activity ?? opts.label, opts.task);
      const env = { ...opts.env, ...(opts.redisUrl ? { REDIS_URL: opts.redisUrl } : {}) };
      fx.bridge = await startBridge(
        bridgeEnv(fx.prefix, fx.sfnLocal.url, [{ activityArn: fx.machine.activityArn, queue: fx.queue, ...opts.binding }], env),
      );
      if (!opts.redisUrl) fx.connection = new IORedis(REDIS_URL, { maxRetriesPerRequest: null });
    } catch (err) {
      try {
        await fx.close();
      } catch (closeErr) {
        throw new AggregateError([err, closeErr], 'BridgeFixture.start failed, and so did closing what it had started');
      }
      throw err;
    }
    return fx;
  }

  /** Closes `resource` on `close()`, before the bridge (tracked resources close in tracking order). */
  track<T extends Closeable>(resource: T): T {
    this.tracked.push(resource);
    return resource;
  }

  /** A tracked BullMQ worker on `queue` (default the binding's), with the fixture's connection and prefix. */
  worker<T = any, R = any>(processor: Processor<T, R>, opts: Partial<WorkerOptions> = {}, queue = this.queue): Worker<T, R> {
    return this.track(new Worker<T, R>(queue, processor, { connection: this.connection, prefix: this.prefix, ...opts }));
  }

  /** A tracked BullMQ queue handle on `name` (default the binding's queue). */
  openQueue<T = any>(name = this.queue): Queue<T> {
    return this.track(new Queue<T>(name, { connection: this.connection, prefix: this.prefix }));
  }

  /** Tears everything down once (later calls share the first); throws the failures, after every step ran. */
  close(): Promise<void> {
    this.closing ??= this.teardown();
    return this.closing;
  }

  private async teardown(): Promise<void> {
    const errors: unknown[] = [];
    const step = async (fn: () => unknown) => {
      try {
        await fn();
      } catch (err) {
        errors.push(err);
      }
    };
    for (const r of this.tracked) await step(() => r.close());
    if (this.opts.closeEmulatorFirst) await step(() => this.sfnLocal?.close());
    await step(() => this.bridge?.close());
    await step(() => this.connection?.quit());
    if (!this.opts.closeEmulatorFirst) await step(() => this.sfnLocal?.close());
    await step(() => this.sfn?.destroy());
    if (!this.opts.redisUrl) await step(() => cleanupPrefix(this.prefix));
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `BridgeFixture.close: ${errors.length} steps failed`);
  }
}
