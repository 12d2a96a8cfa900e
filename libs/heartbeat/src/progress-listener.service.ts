import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { BRIDGE_CONFIG, BridgeConfig } from '@bridge/config';
import { bindingQueueNames, REDIS_CONNECTION } from '@bridge/queue';
import { delay } from '@bridge/sfn';
import IORedis from 'ioredis';
import { HeartbeatSchedule } from './heartbeat-schedule.service';

/** How long one XREAD blocks (ms); also how fast a reader notices a stop without a disconnect. */
const BLOCK_MS = 10_000;
/** Stream entries one XREAD returns at most. */
const READ_COUNT = 1_000;
/** Wait after a failed read before the next (the connection itself reconnects). */
const RETRY_MS = 1_000;

const EVENT = Buffer.from('event');
const PROGRESS = Buffer.from('progress');
const JOB_ID = Buffer.from('jobId');

type StreamReply = [Buffer, [Buffer, Buffer[]][]][] | null;

/**
 * Consumer progress (`job.updateProgress`) is a liveness signal: it makes the task's heartbeat due
 * at once, at most once per HEARTBEAT_PROGRESS_MIN_INTERVAL_MS per job across all replicas. The
 * heartbeat itself is still sent by the scheduled pass, inside the global rate budget.
 *
 * Progress is only visible in each binding queue's BullMQ event stream, next to every other event
 * of every job. BullMQ's QueueEvents would take one blocking connection per queue and decode and
 * JSON-parse every event (every job's return value included) to emit it; here one XREAD reads every
 * binding queue's stream at once as raw buffers and only a `progress` event's job id is decoded.
 * On Redis Cluster the streams may live in different slots, so each queue gets its own reader there.
 */
@Injectable()
export class ProgressListener implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ProgressListener.name);
  private readonly readers: IORedis[] = [];
  private readonly loops: Promise<void>[] = [];
  private readonly started: Promise<string[]>[] = [];
  private stopped = false;

  constructor(
    @Inject(BRIDGE_CONFIG) private readonly config: BridgeConfig,
    @Inject(REDIS_CONNECTION) private readonly redis: IORedis,
    private readonly schedule: HeartbeatSchedule,
  ) {}

  onApplicationBootstrap(): void {
    const keys = bindingQueueNames(this.config).map((q) => `${this.config.redis.prefix}:${q}:events`);
    if (keys.length === 0) return;
    const groups = this.redis.isCluster ? keys.map((k) => [k]) : [keys];
    for (const group of groups) {
      const reader = this.redis.duplicate();
      reader.on('error', (err: Error) => this.logger.debug(`Progress reader: ${err.message}`));
      this.readers.push(reader);
      const ids = this.startIds(reader, group);
      this.started.push(ids);
      this.loops.push(this.read(reader, group, ids));
    }
  }

  /** Resolves once every reader knows where its streams stand (progress from then on is seen). */
  async listening(): Promise<void> {
    await Promise.all(this.started);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    // A blocked XREAD ends when its connection does.
    for (const reader of this.readers) reader.disconnect();
    await Promise.all(this.loops);
  }

  private async read(reader: IORedis, keys: string[], start: Promise<string[]>): Promise<void> {
    const ids = await start;
    const minInterval = this.config.heartbeat.progressMinIntervalMs;
    while (!this.stopped) {
      let reply: StreamReply;
      try {
        reply = (await reader.xreadBuffer('COUNT', READ_COUNT, 'BLOCK', BLOCK_MS, 'STREAMS', ...keys, ...ids)) as StreamReply;
      } catch (err) {
        if (this.stopped) return;
        this.logger.debug(`Reading progress events failed: ${(err as Error).message}`);
        await delay(RETRY_MS);
        continue;
      }
      for (const [key, entries] of reply ?? []) {
        if (entries.length === 0) continue;
        ids[keys.indexOf(key.toString())] = entries[entries.length - 1][0].toString();
        for (const [, fields] of entries) {
          const jobId = progressJobId(fields);
          if (jobId !== undefined) this.expedite(jobId, minInterval);
        }
      }
    }
  }

  /** Each stream's last id now, so nothing between two reads is missed ('0' for a stream not created yet). */
  private async startIds(reader: IORedis, keys: string[]): Promise<string[]> {
    for (;;) {
      try {
        return await Promise.all(keys.map(async (k) => (await reader.xrevrange(k, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0'));
      } catch (err) {
        if (this.stopped) return keys.map(() => '$');
        this.logger.debug(`Reading progress stream positions failed: ${(err as Error).message}`);
        await delay(RETRY_MS);
      }
    }
  }

  private expedite(jobId: string, minInterval: number): void {
    this.schedule.expedite(jobId, minInterval).catch((err: Error) => {
      this.logger.debug(`Progress heartbeat for job ${jobId.slice(0, 12)} not scheduled: ${err.message}`);
    });
  }
}

/** The job id of a BullMQ `progress` event (fields: event, progress, jobId, <id>, data, ...), else undefined. */
export function progressJobId(fields: Buffer[]): string | undefined {
  if (fields.length < 4 || !fields[0].equals(EVENT) || !fields[1].equals(PROGRESS)) return undefined;
  for (let i = 2; i + 1 < fields.length; i += 2) if (fields[i].equals(JOB_ID)) return fields[i + 1].toString();
  return undefined;
}
