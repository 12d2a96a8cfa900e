import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { BRIDGE_CONFIG, BridgeConfig } from '@bridge/config';
import { HeartbeatSchedule } from '@bridge/heartbeat';
import { bindingQueueNames, REDIS_CONNECTION, RELAY_GROUP } from '@bridge/queue';
import { IncidentLog, sleep } from '@bridge/common';
import IORedis from 'ioredis';
import { JobEndKind } from './job-end';
import { RELAY_LEASE_MS } from './relay-attempt';
import { RelayRequest, RelayService } from './relay.service';

/** How long one XREADGROUP blocks (ms); also how fast a reader notices a stop without a disconnect. */
const BLOCK_MS = 5_000;
/** Stream entries one read returns at most (a job writes about four: added, waiting, active, completed). */
const READ_COUNT = 256;
/** Wait after a failed read before the next (the connection itself reconnects). */
const RETRY_MS = 1_000;
/** How often pending entries idle longer than a relay lease (their reader died) are taken over. */
const RECLAIM_EVERY_MS = 5_000;
/** Entries one XAUTOCLAIM takes at most, and calls per stream per round. */
const RECLAIM_COUNT = 100;
const RECLAIM_CALLS = 10;
/** Consumers of the group with nothing pending and idle this long (replicas gone) are deleted. */
const CONSUMER_IDLE_MS = 600_000;
const FORGET_CONSUMERS_EVERY = 12; // rounds: once a minute

type Entry = [id: string, fields: string[] | null];
type ReadReply = [key: string, entries: Entry[]][] | null;

const TERMINAL: Record<string, JobEndKind | undefined> = { completed: 'completed', failed: 'failed', removed: 'removed' };
/** States a removed job may have been in whose end was an event of its own. */
const FINISHED = new Set(['completed', 'failed']);

/**
 * The relay's input and the heartbeat's progress signal: every binding queue's BullMQ event stream,
 * read in one consumer group (`sfn-bridge`) by every replica, so each event reaches one replica.
 * `completed` (it carries the return value), `failed` (a final failure: BullMQ writes no `failed`
 * event for a failure it will retry) and `removed` go to the RelayService; `progress` makes the
 * task's heartbeat due at once (at most once per HEARTBEAT_PROGRESS_MIN_INTERVAL_MS per job, all
 * replicas); every other event is acknowledged as read. A relayed entry is acknowledged by the
 * relay's close, in the same script that closes the task, so an entry whose replica died before
 * the close stays pending and is taken over (XAUTOCLAIM) by another replica once it has been idle
 * longer than a relay lease; the claim on the task record decides who relays, the stream only who
 * hears first. An entry trimmed before anyone read it (every replica down longer than the stream's
 * ~10,000 events last) is found by the heartbeat pass instead: a finished job whose task is open.
 *
 * One blocking connection reads every stream at once (on a Cluster, one per stream). Reading waits
 * while RELAY_CONCURRENCY relays run. BullMQ's QueueEvents would take a blocking connection per
 * queue and parse every event; consumer groups are what let replicas share the work.
 */
@Injectable()
export class TaskEventsReader implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(TaskEventsReader.name);
  private readonly readFailures = new IncidentLog(this.logger, 'Reading job events');
  private readonly readers: IORedis[] = [];
  private readonly loops: Promise<void>[] = [];
  private readonly queueOf = new Map<string, string>();
  private readonly keys: string[];
  private reclaimTimer?: NodeJS.Timeout;
  private reclaiming?: Promise<void>;
  private rounds = 0;
  private stopped = false;
  private ready?: Promise<void>;

  constructor(
    @Inject(BRIDGE_CONFIG) private readonly config: BridgeConfig,
    @Inject(REDIS_CONNECTION) private readonly redis: IORedis,
    private readonly relay: RelayService,
    private readonly schedule: HeartbeatSchedule,
  ) {
    for (const queue of bindingQueueNames(config)) this.queueOf.set(this.relay.records.keys.events(queue), queue);
    this.keys = [...this.queueOf.keys()];
  }

  onApplicationBootstrap(): void {
    if (this.keys.length === 0) return;
    this.ready = this.createGroups();
    const groups = this.redis.isCluster ? this.keys.map((k) => [k]) : [this.keys];
    for (const keys of groups) {
      const reader = this.redis.duplicate();
      reader.on('error', (err: Error) => this.logger.debug(`Event reader: ${err.message}`));
      this.readers.push(reader);
      this.loops.push(this.read(reader, keys));
    }
    this.reclaimTimer = setInterval(() => {
      this.reclaiming ??= this.reclaim().finally(() => (this.reclaiming = undefined));
    }, RECLAIM_EVERY_MS);
  }

  /** Resolves once the consumer group exists on every stream (events from then on reach a replica). */
  async listening(): Promise<void> {
    await this.ready;
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.reclaimTimer);
    // A blocked XREADGROUP ends when its connection does.
    for (const reader of this.readers) reader.disconnect();
    await Promise.all([...this.loops, this.reclaiming]);
  }

  /** The group on every stream, reading from the start of what the stream holds (a task written before it existed is not missed). */
  private async createGroups(): Promise<void> {
    for (;;) {
      try {
        await Promise.all(
          this.keys.map((key) =>
            this.redis.xgroup('CREATE', key, RELAY_GROUP, '0', 'MKSTREAM').catch((err: Error) => {
              if (!err.message.includes('BUSYGROUP')) throw err;
            }),
          ),
        );
        return;
      } catch (err) {
        if (this.stopped) return;
        this.readFailures.failure(`creating the consumer group: ${(err as Error).message}`);
        await sleep(RETRY_MS);
      }
    }
  }

  private async read(reader: IORedis, keys: string[]): Promise<void> {
    await this.ready;
    const ids = keys.map(() => '>');
    while (!this.stopped) {
      await this.relay.room();
      if (this.stopped) return;
      let reply: ReadReply;
      try {
        reply = (await reader.xreadgroup(
          'GROUP',
          RELAY_GROUP,
          this.relay.owner,
          'COUNT',
          READ_COUNT,
          'BLOCK',
          BLOCK_MS,
          'STREAMS',
          ...keys,
          ...ids,
        )) as ReadReply;
        this.readFailures.success();
      } catch (err) {
        if (this.stopped) return;
        const message = (err as Error).message;
        this.readFailures.failure(message);
        // The stream or its group is gone (deleted, a Redis that lost its data): made again.
        if (message.includes('NOGROUP')) await this.createGroups();
        await sleep(RETRY_MS);
        continue;
      }
      for (const [key, entries] of reply ?? []) this.handle(key, entries);
    }
  }

  /**
   * Hands job ends to the relay and acknowledges the rest. A job end's entry is acknowledged by the
   * relay's close (or its claim's finding that the task is closed or not the bridge's); one the
   * relay turns down (it is shutting down) stays pending for another replica. `removed` of a job
   * that had finished (`prev` completed / failed: Bull Board's remove, a consumer's clean-up) is no
   * job end: its `completed` / `failed` event is. An entry trimmed while pending (Redis 6.2's
   * XAUTOCLAIM answers it without fields) is acknowledged: a heartbeat finds its task.
   */
  private handle(key: string, entries: Entry[]): void {
    const queue = this.queueOf.get(key);
    if (!queue) return;
    const read: string[] = [];
    for (const [id, fields] of entries) {
      if (!fields) {
        read.push(id);
        continue;
      }
      const event = fields[1];
      const jobId = field(fields, 'jobId');
      const kind = TERMINAL[event];
      if (kind && jobId && !(kind === 'removed' && FINISHED.has(field(fields, 'prev') ?? ''))) {
        const request: RelayRequest = { queue, jobId, kind, entryIds: [id], finishedAt: Number(id.slice(0, id.indexOf('-'))) };
        if (kind === 'completed') request.returnvalue = field(fields, 'returnvalue');
        if (kind === 'failed') request.failedReason = field(fields, 'failedReason');
        this.relay.relay(request);
        continue;
      }
      if (event === 'progress' && jobId) this.expedite(jobId);
      read.push(id);
    }
    if (read.length > 0) {
      this.redis.xack(key, RELAY_GROUP, ...read).catch((err: Error) => this.logger.debug(`Acknowledging events failed: ${err.message}`));
    }
  }

  /** Takes over entries pending longer than a relay lease (their replica died mid-relay or before it). */
  private async reclaim(): Promise<void> {
    if (this.stopped || this.keys.length === 0) return;
    try {
      for (const key of this.keys) {
        let cursor = '0-0';
        for (let call = 0; call < RECLAIM_CALLS && !this.stopped; call++) {
          const [next, entries] = (await this.redis.xautoclaim(
            key,
            RELAY_GROUP,
            this.relay.owner,
            RELAY_LEASE_MS,
            cursor,
            'COUNT',
            RECLAIM_COUNT,
          )) as [string, Entry[]];
          if (entries.length > 0) this.handle(key, entries);
          cursor = next;
          if (cursor === '0-0') break;
        }
      }
      if (++this.rounds % FORGET_CONSUMERS_EVERY === 0) await this.forgetGoneConsumers();
    } catch (err) {
      if (!this.stopped) this.logger.debug(`Taking over pending events failed: ${(err as Error).message}`);
    }
  }

  /** Deletes consumers of replicas long gone whose entries were all taken over (none pending: nothing is lost). */
  private async forgetGoneConsumers(): Promise<void> {
    for (const key of this.keys) {
      const consumers = (await this.redis.xinfo('CONSUMERS', key, RELAY_GROUP)) as (string | number)[][];
      for (const info of consumers) {
        const name = String(info[info.indexOf('name') + 1]);
        const pending = Number(info[info.indexOf('pending') + 1]);
        const idle = Number(info[info.indexOf('idle') + 1]);
        if (name !== this.relay.owner && pending === 0 && idle > CONSUMER_IDLE_MS) {
          await this.redis.xgroup('DELCONSUMER', key, RELAY_GROUP, name);
        }
      }
    }
  }

  private expedite(jobId: string): void {
    this.schedule.expedite(jobId, this.config.heartbeat.progressMinIntervalMs).catch((err: Error) => {
      this.logger.debug(`Progress heartbeat for job ${jobId.slice(0, 12)} not scheduled: ${err.message}`);
    });
  }
}

/** A field of a BullMQ event entry (flat name/value pairs after `event`, <name>). */
export function field(fields: string[], name: string): string | undefined {
  for (let i = 2; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}
