import { HeartbeatKeys } from '@bridge/heartbeat';
import { RELAY_GROUP, TaskField, TaskKeys } from '@bridge/queue';
import type { Cluster, Redis } from 'ioredis';

/**
 * Where a stuck task sits in Redis, for the read-out of an execution left RUNNING: its task record
 * (token still there?, relay attempts, lease against Redis TIME, owner, closed), its job on the
 * binding queue (which state set holds it, lock, the fields that say how far it got), its events on
 * the queue's event stream and what the relay's consumer group made of each (pending at a consumer,
 * acknowledged, or not yet delivered), and its heartbeat-schedule entry. Read on whatever primary
 * serves the prefix now, so a state a failover left half-written shows as it is. The token itself
 * is never printed.
 */

/** A pending entry of the relay's group: who holds it, for how long, how often it was delivered. */
interface PendingEntry {
  consumer: string;
  idleMs: number;
  deliveries: number;
}

/** One binding queue's event stream as the relay's group sees it (read once per read-out). */
interface StreamView {
  length: number;
  group?: { pending: number; lastDelivered: string; lag: string; consumers: number };
  pending: Map<string, PendingEntry>;
  /** Entries naming a job, by job id: [entry id, event]. */
  byJob: Map<string, [string, string][]>;
}

/** Presence of a task's keys: the quick test of "never written" before the full read-out. */
export interface TaskPresence {
  record: boolean;
  job: boolean;
  jobFinished: boolean;
}

const LISTS = ['wait', 'active', 'paused'] as const;
const ZSETS = ['waiting-children', 'delayed', 'prioritized', 'completed', 'failed'] as const;
const XRANGE_PAGE = 2_000;
const XPENDING_MAX = 10_000;

/** A flat [name, value, ...] reply as an object. */
function pairs(flat: unknown[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = String(flat[i + 1]);
  return out;
}

/** Orders two stream ids (`<ms>-<seq>`). */
export function compareStreamIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number);
  const [bm, bs] = b.split('-').map(Number);
  return am - bm || as - bs;
}

/** Reads stuck tasks' state; each binding queue's stream is read once and kept for the whole read-out. */
export class TaskStateReader {
  private readonly keys: TaskKeys;
  private readonly heartbeatKeys: HeartbeatKeys;
  private readonly streams = new Map<string, Promise<StreamView>>();

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly prefix: string,
  ) {
    this.keys = new TaskKeys(prefix);
    this.heartbeatKeys = new HeartbeatKeys(prefix);
  }

  async presence(queue: string, jobId: string): Promise<TaskPresence> {
    const [record, job, finishedOn] = await Promise.all([
      this.redis.exists(this.keys.record(jobId)),
      this.redis.exists(this.keys.job(queue, jobId)),
      this.redis.hget(this.keys.job(queue, jobId), 'finishedOn'),
    ]);
    return { record: record === 1, job: job === 1, jobFinished: !!finishedOn };
  }

  /** The task of job `jobId` on `queue`, as one line of `; `-separated parts. */
  async describe(queue: string, jobId: string): Promise<string> {
    const [time, record, job, events, schedule] = await Promise.all([
      this.redis.time(),
      this.readRecord(jobId),
      this.readJob(queue, jobId),
      this.stream(queue),
      Promise.all([this.redis.zscore(this.heartbeatKeys.schedule, jobId), this.redis.exists(this.heartbeatKeys.cancelled(jobId))]),
    ]);
    const now = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
    const ago = (v: string | null | undefined) => (v ? `${now - Number(v)} ms ago` : '-');
    const [due, cancelled] = schedule;
    return [
      record(now),
      job(ago),
      this.eventsLine(events, jobId, now),
      `schedule ${due === null ? 'no entry' : Number(due) >= now ? `due in ${Number(due) - now} ms` : `overdue ${now - Number(due)} ms`}${cancelled ? ', cancelled flag set' : ''}`,
    ].join('; ');
  }

  private async readRecord(jobId: string): Promise<(now: number) => string> {
    const key = this.keys.record(jobId);
    const [hasToken, fields, pttl] = await Promise.all([
      this.redis.hexists(key, TaskField.Token),
      this.redis.hmget(
        key,
        TaskField.Binding,
        TaskField.Attempts,
        TaskField.Lease,
        TaskField.Owner,
        TaskField.Closed,
        TaskField.Reason,
        TaskField.ReceivedAt,
      ),
      this.redis.pttl(key),
    ]);
    const [binding, attempts, lease, owner, closed, reason, receivedAt] = fields;
    return (now) => {
      if (pttl === -2) return 'record missing';
      const leaseText = lease
        ? Number(lease) > now
          ? `lease held by ${owner ?? '?'} for ${Number(lease) - now} ms more`
          : `lease of ${owner ?? '?'} lapsed ${now - Number(lease)} ms ago`
        : `no lease${owner ? ` (last owner ${owner})` : ''}`;
      return [
        `record ${closed ? `closed ${closed} (${reason ?? '-'})` : 'open'}`,
        `token ${hasToken ? 'present' : 'absent'}`,
        `binding ${binding ?? '-'}`,
        `received ${receivedAt ? `${now - Number(receivedAt)} ms ago` : '-'}`,
        `attempts ${attempts ?? 0}`,
        `${leaseText} (Redis TIME)`,
        `pttl ${pttl}`,
      ].join(', ');
    };
  }

  private async readJob(queue: string, jobId: string): Promise<(ago: (v: string | null | undefined) => string) => string> {
    const q = `${this.prefix}:${queue}`;
    const job = this.keys.job(queue, jobId);
    const [exists, inLists, inZsets, stalled, lock, lockTtl, fields] = await Promise.all([
      this.redis.exists(job),
      Promise.all(LISTS.map((l) => this.redis.lpos(`${q}:${l}`, jobId))),
      Promise.all(ZSETS.map((z) => this.redis.zscore(`${q}:${z}`, jobId))),
      this.redis.sismember(`${q}:stalled`, jobId),
      this.redis.get(`${job}:lock`),
      this.redis.pttl(`${job}:lock`),
      this.redis.hmget(job, 'processedOn', 'finishedOn', 'ats', 'atm', 'stc', 'failedReason', 'returnvalue'),
    ]);
    const where = [
      ...LISTS.flatMap((l, i) => (inLists[i] === null ? [] : [`${l}@${inLists[i]}`])),
      ...ZSETS.flatMap((z, i) => (inZsets[i] === null ? [] : [`${z}(${inZsets[i]})`])),
      ...(stalled ? ['stalled'] : []),
    ];
    const [processedOn, finishedOn, ats, atm, stc, failedReason, returnvalue] = fields;
    return (ago) =>
      exists
        ? [
            `job in [${where.join(', ') || 'no state set'}]`,
            `lock ${lock ? `held (pttl ${lockTtl})` : 'none'}`,
            `processedOn ${ago(processedOn)}, finishedOn ${ago(finishedOn)}, ats ${ats ?? '-'}, atm ${atm ?? '-'}, stc ${stc ?? '-'}`,
            `failedReason ${failedReason ?? '-'}, returnvalue ${returnvalue === null ? '-' : `${returnvalue.length} chars`}`,
          ].join(', ')
        : `job missing${where.length ? ` (yet in [${where.join(', ')}])` : ''}`;
  }

  /** The job's entries on the stream, each with what the group did with it, and the group's figures. */
  private eventsLine(view: StreamView, jobId: string, now: number): string {
    const last = view.group?.lastDelivered;
    const entries = (view.byJob.get(jobId) ?? []).map(([id, event]) => {
      const p = view.pending.get(id);
      const fate = p
        ? `pending at ${p.consumer} (idle ${p.idleMs} ms, ${p.deliveries} deliveries)`
        : last && compareStreamIds(id, last) <= 0
          ? 'acked'
          : 'not delivered';
      return `${event} ${now - Number(id.slice(0, id.indexOf('-')))} ms ago ${fate}`;
    });
    const g = view.group;
    const group = g
      ? `group ${RELAY_GROUP}: pending ${g.pending}, last delivered ${now - Number(last!.slice(0, last!.indexOf('-')))} ms ago, lag ${g.lag}, consumers ${g.consumers}`
      : `no group ${RELAY_GROUP}`;
    return `events [${entries.join(', ') || 'none on the stream'}] (stream ${view.length} entries; ${group})`;
  }

  private stream(queue: string): Promise<StreamView> {
    let view = this.streams.get(queue);
    if (!view) this.streams.set(queue, (view = this.readStream(queue)));
    return view;
  }

  private async readStream(queue: string): Promise<StreamView> {
    const key = this.keys.events(queue);
    const view: StreamView = { length: await this.redis.xlen(key), pending: new Map(), byJob: new Map() };
    const groups = ((await this.redis.xinfo('GROUPS', key).catch(() => [])) as unknown[][]).map(pairs);
    const g = groups.find((x) => x.name === RELAY_GROUP);
    if (g) {
      view.group = { pending: Number(g.pending), lastDelivered: g['last-delivered-id'], lag: g.lag ?? '-', consumers: Number(g.consumers) };
      const pending = (await this.redis.xpending(key, RELAY_GROUP, '-', '+', XPENDING_MAX)) as [string, string, number, number][];
      for (const [id, consumer, idleMs, deliveries] of pending)
        view.pending.set(id, { consumer, idleMs: Number(idleMs), deliveries: Number(deliveries) });
    }
    let start = '-';
    for (;;) {
      const page = (await this.redis.xrange(key, start, '+', 'COUNT', XRANGE_PAGE)) as [string, string[]][];
      for (const [id, fields] of page) {
        const f = pairs(fields);
        if (!f.jobId) continue;
        const list = view.byJob.get(f.jobId) ?? [];
        list.push([id, f.event]);
        view.byJob.set(f.jobId, list);
      }
      if (page.length < XRANGE_PAGE) break;
      start = `(${page[page.length - 1][0]}`;
    }
    return view;
  }
}
