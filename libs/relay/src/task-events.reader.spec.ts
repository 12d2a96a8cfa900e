/**
 * TaskEventsReader against real Redis and real BullMQ (a Queue and a Worker per binding queue,
 * each test its own prefix), with the RelayService and the heartbeat schedule faked: which events
 * of the binding queues' streams become relays (not the `removed` of a job that had finished),
 * which become expedited heartbeats, which entries are acknowledged at once and which stay pending
 * for the relay's close (every job end's, even one the relay turns down), and how entries a dead
 * replica left pending are taken over, or acknowledged when trimmed meanwhile.
 */
import { BridgeConfig } from '@bridge/config';
import { HeartbeatSchedule } from '@bridge/heartbeat';
import { RELAY_GROUP, TaskKeys } from '@bridge/queue';
import { Job, JobsOptions, Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../../../test/support/redis';
import { waitFor } from '../../../test/support/wait-for';
import { RELAY_LEASE_MS } from './relay-attempt';
import { RelayRequest, RelayService } from './relay.service';
import { field, TaskEventsReader } from './task-events.reader';

const PROGRESS_MIN_INTERVAL_MS = 100;

/** What the test worker does with a job: return `value`, fail `failTimes` attempts first, report progress first. */
interface WorkData {
  value?: unknown;
  failTimes?: number;
  progress?: boolean;
}

async function work(job: Job<WorkData>): Promise<unknown> {
  if (job.data.progress) await job.updateProgress(50);
  if (job.attemptsMade < (job.data.failTimes ?? 0)) throw new Error(`boom on attempt ${job.attemptsMade + 1}`);
  return { echo: job.data.value ?? null };
}

type Entry = [id: string, fields: string[]];

/** The reader's private entry handling, reached for an entry shape this Redis (7) does not produce. */
interface Handler {
  handle(key: string, entries: [id: string, fields: string[] | null][]): void;
}

const open: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of open.splice(0).reverse()) await close();
});

/**
 * Binding queues `queues` (listed twice in the config, as two bindings sharing a queue would be),
 * a reader on them (not started), and the fakes it talks to. `answer`: what relay() returns (false:
 * turned down, as while shutting down). The fake relay never acknowledges (its close would).
 */
function setup(queues: string[], answer: (request: RelayRequest) => boolean = () => true) {
  const prefix = uniquePrefix('events');
  const redis = new IORedis(REDIS_URL, { maxRetriesPerRequest: null });
  const keys = new TaskKeys(prefix);
  const requests: RelayRequest[] = [];
  const relay = {
    owner: `reader-${prefix}`,
    records: { keys },
    room: () => Promise.resolve(),
    relay: (request: RelayRequest) => (requests.push(request), answer(request)),
  } as unknown as RelayService;
  const expedited: [jobId: string, minIntervalMs: number][] = [];
  const schedule = {
    expedite: async (jobId: string, minIntervalMs: number) => (expedited.push([jobId, minIntervalMs]), true),
  } as unknown as HeartbeatSchedule;
  const config = {
    bindings: [...queues, ...queues].map((queue) => ({ queue })),
    redis: { prefix },
    heartbeat: { progressMinIntervalMs: PROGRESS_MIN_INTERVAL_MS },
  } as unknown as BridgeConfig;
  const reader = new TaskEventsReader(config, redis, relay, schedule);
  const queueOf = new Map(queues.map((name) => [name, new Queue<WorkData>(name, { connection: redis, prefix })]));
  const workers: Worker[] = [];
  const finished: string[] = [];
  let started = false;
  open.push(async () => {
    if (started) await reader.onModuleDestroy();
    await Promise.all(workers.map((w) => w.close()));
    await Promise.all([...queueOf.values()].map((q) => q.close()));
    await redis.quit();
    await cleanupPrefix(prefix);
  });

  const start = async () => {
    started = true;
    reader.onApplicationBootstrap();
    await reader.listening();
  };
  /** A worker on every queue; `finished` lists each job id once it completed or finally failed. */
  const startWorkers = () => {
    for (const name of queues) {
      const worker = new Worker<WorkData>(name, work, { connection: redis, prefix });
      worker.on('completed', (job) => finished.push(job.id!));
      worker.on('failed', (job) => {
        if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) finished.push(job.id!);
      });
      workers.push(worker);
    }
  };
  const add = (queue: string, jobId: string, data: WorkData = {}, opts: JobsOptions = {}) =>
    queueOf.get(queue)!.add('work', data, { jobId, ...opts });
  const entries = async (queue: string) => (await redis.xrange(keys.events(queue), '-', '+')) as Entry[];
  /** The stream entry announcing `event` of `jobId`. */
  const entryOf = async (queue: string, event: string, jobId: string) =>
    (await entries(queue)).find(([, f]) => f[1] === event && field(f, 'jobId') === jobId);
  /** Pending entries of the group: [id, consumer] each. */
  const pending = async (queue: string) =>
    ((await redis.xpending(keys.events(queue), RELAY_GROUP, '-', '+', 1_000)) as [string, string, number, number][]).map(
      ([id, consumer]) => [id, consumer] as [string, string],
    );
  /** The pending entries once `count` are left (acknowledgements are issued without waiting for the reply). */
  const pendingOnce = (queue: string, count: number) => {
    let last: [string, string][] = [];
    return waitFor(
      async () => {
        last = await pending(queue);
        return last.length === count ? last : undefined;
      },
      { timeoutMs: 5_000, message: `${count} pending entries of ${queue}` },
    ).catch((err: Error) => {
      throw new Error(`${err.message} (saw ${last.length}: ${JSON.stringify(last)})`);
    });
  };
  /** Whether the group has been handed every entry the stream holds. */
  const allDelivered = async (queue: string) => {
    const all = await entries(queue);
    const groups = (await redis.xinfo('GROUPS', keys.events(queue))) as (string | number)[][];
    const group = groups.find((g) => g[g.indexOf('name') + 1] === RELAY_GROUP);
    return !!group && all.length > 0 && group[group.indexOf('last-delivered-id') + 1] === all[all.length - 1][0];
  };
  const requestsOf = (jobId: string) => requests.filter((r) => r.jobId === jobId);
  const seen = () => JSON.stringify(requests.map((r) => `${r.queue}/${r.jobId}:${r.kind}`));
  return {
    prefix,
    redis,
    keys,
    owner: relay.owner,
    reader,
    requests,
    expedited,
    finished,
    start,
    startWorkers,
    add,
    entries,
    entryOf,
    pending,
    pendingOnce,
    allDelivered,
    requestsOf,
    seen,
  };
}

describe('TaskEventsReader (real Redis, real BullMQ)', () => {
  it('relays a completed job once, as completed with its return value and the entry that announced it', async () => {
    const t = setup(['qa']);
    await t.start();
    t.startWorkers();
    await t.add('qa', 'done-1', { value: { total: 42 } });
    await waitFor(() => t.requestsOf('done-1').length > 0, { message: `a relay of done-1 (saw ${t.seen()})` });

    const entry = await t.entryOf('qa', 'completed', 'done-1');
    expect(entry).toBeDefined();
    const [id] = entry!;
    expect(t.requestsOf('done-1')).toEqual([
      {
        queue: 'qa',
        jobId: 'done-1',
        kind: 'completed',
        returnvalue: JSON.stringify({ echo: { total: 42 } }),
        entryIds: [id],
        finishedAt: Number(id.split('-')[0]),
      },
    ]);
    // Every other entry of the job (added, waiting, active...) is acknowledged once read.
    await waitFor(() => t.allDelivered('qa'), { message: 'every entry of qa delivered to the group' });
    const pending = await t.pendingOnce('qa', 1);
    expect({ requests: t.requests.length, pending }).toEqual({ requests: 1, pending: [[id, t.owner]] });
  });

  it('relays a final failure as failed with its reason, and nothing for a failure that is retried', async () => {
    const t = setup(['qa']);
    await t.start();
    t.startWorkers();
    await t.add('qa', 'fails-twice', { failTimes: 2 }, { attempts: 2 });
    await t.add('qa', 'fails-once', { failTimes: 1, value: 'second try' }, { attempts: 2 });
    await waitFor(() => t.finished.length === 2, { message: `2 jobs finished (saw ${JSON.stringify(t.finished)})` });
    await waitFor(() => t.requests.length >= 2, { message: `2 relays (saw ${t.seen()})` });
    await waitFor(() => t.allDelivered('qa'), { message: 'every entry of qa delivered to the group' });

    const [failedEntry] = (await t.entryOf('qa', 'failed', 'fails-twice'))!;
    expect(t.requestsOf('fails-twice')).toEqual([
      {
        queue: 'qa',
        jobId: 'fails-twice',
        kind: 'failed',
        failedReason: 'boom on attempt 2',
        entryIds: [failedEntry],
        finishedAt: Number(failedEntry.split('-')[0]),
      },
    ]);
    expect(t.requestsOf('fails-once').map((r) => [r.kind, r.returnvalue])).toEqual([['completed', JSON.stringify({ echo: 'second try' })]]);
    expect(t.requests.length).toBe(2);
  });

  it('relays a job removed before it finished as removed, including one removed before the reader started', async () => {
    const t = setup(['qa']);
    const early = await t.add('qa', 'gone-early', {}, { delay: 60_000 });
    await early.remove();
    await t.start();
    const late = await t.add('qa', 'gone-late', {}, { delay: 60_000 });
    await late.remove();
    await waitFor(() => t.requests.length >= 2, { message: `2 relays (saw ${t.seen()})` });

    const removed = await Promise.all(['gone-early', 'gone-late'].map((id) => t.entryOf('qa', 'removed', id)));
    expect(t.requests).toEqual(
      removed.map((entry, i) => ({
        queue: 'qa',
        jobId: ['gone-early', 'gone-late'][i],
        kind: 'removed',
        entryIds: [entry![0]],
        finishedAt: Number(entry![0].split('-')[0]),
      })),
    );
  });

  it('reads every binding queue, and turns progress into an expedited heartbeat of that job only', async () => {
    const t = setup(['qa', 'qb']);
    await t.start();
    t.startWorkers();
    for (const q of ['qa', 'qb']) {
      await t.add(q, `${q}-progress`, { progress: true });
      await t.add(q, `${q}-quiet`);
    }
    await waitFor(() => t.requests.length >= 4, { message: `4 relays (saw ${t.seen()})` });
    await waitFor(() => t.expedited.length >= 2, { message: `2 expedites (saw ${JSON.stringify(t.expedited)})` });
    await Promise.all(['qa', 'qb'].map((q) => waitFor(() => t.allDelivered(q), { message: `every entry of ${q} delivered` })));

    expect([...t.expedited].sort()).toEqual([
      ['qa-progress', PROGRESS_MIN_INTERVAL_MS],
      ['qb-progress', PROGRESS_MIN_INTERVAL_MS],
    ]);
    expect(t.requests.map((r) => `${r.queue}/${r.jobId}:${r.kind}`).sort()).toEqual([
      'qa/qa-progress:completed',
      'qa/qa-quiet:completed',
      'qb/qb-progress:completed',
      'qb/qb-quiet:completed',
    ]);
  });

  it('leaves every job end pending for the relay, even one the relay turns down, and acknowledges every other entry', async () => {
    const turnedDown = ['down-completed', 'down-failed', 'down-removed'];
    const t = setup(['qa'], (request) => !turnedDown.includes(request.jobId));
    await t.start();
    t.startWorkers();
    for (const id of ['relayed-1', 'relayed-2', 'down-completed']) await t.add('qa', id, { progress: id === 'relayed-1' });
    await t.add('qa', 'down-failed', { failTimes: 1 }, { attempts: 1 });
    const removedEarly = await t.add('qa', 'down-removed', {}, { delay: 60_000 });
    await removedEarly.remove();
    await waitFor(() => t.requests.length >= 5, { message: `5 relays (saw ${t.seen()})` });
    await waitFor(() => t.allDelivered('qa'), { message: 'every entry of qa delivered to the group' });

    const all = await t.entries('qa');
    const jobEnds = t.requests.flatMap((r) => r.entryIds);
    const pending = await t.pendingOnce('qa', jobEnds.length);
    expect({
      kinds: t.requests.map((r) => `${r.jobId}:${r.kind}`).sort(),
      pending: pending.map(([id]) => id).sort(),
    }).toEqual({
      kinds: ['down-completed:completed', 'down-failed:failed', 'down-removed:removed', 'relayed-1:completed', 'relayed-2:completed'],
      pending: [...jobEnds].sort(),
    });
    // Each job wrote more than its end (added, waiting, active, progress...): all acknowledged.
    expect(all.length).toBeGreaterThan(3 * 5);
    expect(new Set(pending.map(([, consumer]) => consumer))).toEqual(new Set([t.owner]));
  });

  it('hands no `removed` of a job that had completed or failed to the relay, and acknowledges it', async () => {
    const t = setup(['qa']);
    await t.start();
    t.startWorkers();
    const done = await t.add('qa', 'done-then-removed', { value: 1 });
    const failed = await t.add('qa', 'failed-then-removed', { failTimes: 1 }, { attempts: 1 });
    await waitFor(() => t.finished.length === 2, { message: `2 jobs finished (saw ${JSON.stringify(t.finished)})` });
    await done.remove();
    await failed.remove();
    const removed = await waitFor(
      async () => {
        const found = await Promise.all([done, failed].map((job) => t.entryOf('qa', 'removed', job.id!)));
        return found.every(Boolean) ? found.map((entry) => entry!) : undefined;
      },
      { message: 'the removed entries of both jobs' },
    );
    await waitFor(() => t.allDelivered('qa'), { message: 'every entry of qa delivered to the group' });

    // What BullMQ wrote: a removed event naming the state the job was removed from.
    expect(removed.map(([, fields]) => field(fields, 'prev'))).toEqual(['completed', 'failed']);
    const ends = await Promise.all([t.entryOf('qa', 'completed', 'done-then-removed'), t.entryOf('qa', 'failed', 'failed-then-removed')]);
    const pending = await t.pendingOnce('qa', 2);
    expect({ relays: t.requests.map((r) => `${r.jobId}:${r.kind}`).sort(), pending: pending.map(([id]) => id).sort() }).toEqual({
      relays: ['done-then-removed:completed', 'failed-then-removed:failed'],
      pending: ends.map((entry) => entry![0]).sort(),
    });
  });

  it('acknowledges an entry taken over without its fields (trimmed while pending, as Redis 6.2 XAUTOCLAIM answers it)', async () => {
    // Redis 7 drops such an entry from the pending list itself and answers its id apart, so the
    // shape is handed to the reader's private handler here.
    const t = setup(['qa']);
    const events = t.keys.events('qa');
    await t.redis.xgroup('CREATE', events, RELAY_GROUP, '$', 'MKSTREAM');
    const trimmed = (await t.redis.xadd(events, '*', 'event', 'completed', 'jobId', 'trimmed', 'returnvalue', '1'))!;
    const kept = (await t.redis.xadd(events, '*', 'event', 'completed', 'jobId', 'kept', 'returnvalue', '2'))!;
    await t.redis.xreadgroup('GROUP', RELAY_GROUP, t.owner, 'COUNT', 10, 'STREAMS', events, '>');
    expect((await t.pending('qa')).length).toBe(2);

    (t.reader as unknown as Handler).handle(events, [
      [trimmed, null],
      [kept, ['event', 'completed', 'jobId', 'kept', 'returnvalue', '2']],
    ]);
    const pending = await t.pendingOnce('qa', 1);
    expect({ relays: t.requests.map((r) => [r.jobId, r.entryIds]), pending }).toEqual({
      relays: [['kept', [kept]]],
      pending: [[kept, t.owner]],
    });
  });

  it('takes over the entries a dead replica left pending once they are idle longer than a relay lease', async () => {
    const t = setup(['qc'], (request) => request.jobId !== 'turned-down');
    const events = t.keys.events('qc');
    await t.redis.xgroup('CREATE', events, RELAY_GROUP, '0', 'MKSTREAM');
    t.startWorkers();
    await t.add('qc', 'orphaned');
    await t.add('qc', 'turned-down');
    await waitFor(() => t.finished.length === 2, { message: `2 jobs finished (saw ${JSON.stringify(t.finished)})` });
    // The dead replica read everything and acknowledged nothing.
    const read = (await t.redis.xreadgroup('GROUP', RELAY_GROUP, 'dead-replica', 'COUNT', 1_000, 'STREAMS', events, '>')) as [
      string,
      Entry[],
    ][];
    const readAt = Date.now();
    const taken = read[0][1].length;
    expect((await t.pending('qc')).length).toBe(taken);

    await t.start();
    await waitFor(() => t.requests.length >= 2, {
      timeoutMs: RELAY_LEASE_MS + 10_000,
      message: `2 relays of the dead replica's entries (saw ${t.seen()})`,
    });
    const waited = Date.now() - readAt;
    // XAUTOCLAIM's idle time is Redis' clock; 50 ms of slack between the two.
    expect(waited).toBeGreaterThanOrEqual(RELAY_LEASE_MS - 50);

    const completed = await Promise.all(['orphaned', 'turned-down'].map((id) => t.entryOf('qc', 'completed', id)));
    expect(t.requests.map((r) => [r.jobId, r.kind, r.entryIds])).toEqual([
      ['orphaned', 'completed', [completed[0]![0]]],
      ['turned-down', 'completed', [completed[1]![0]]],
    ]);
    // The rest is acknowledged; the relayed entry waits for the relay's close, and so does the one
    // the relay turned down (shutting down: another replica takes it over in turn).
    const pending = await t.pendingOnce('qc', 2);
    expect(pending).toEqual([
      [completed[0]![0], t.owner],
      [completed[1]![0], t.owner],
    ]);
  }, 40_000);

  it('reads a field of an event entry by name, after the event name', () => {
    const entry = ['event', 'completed', 'jobId', '42', 'returnvalue', '{"jobId":"x"}', 'prev', 'active'];
    expect([field(entry, 'jobId'), field(entry, 'returnvalue'), field(entry, 'prev')]).toEqual(['42', '{"jobId":"x"}', 'active']);
    expect(field(entry, 'failedReason')).toBeUndefined();
    // The event name and a value are never taken for a field name.
    expect(field(entry, 'event')).toBeUndefined();
    expect(field(['event', 'jobId', 'jobId', '7'], 'jobId')).toBe('7');
    expect(field(['event', 'progress', 'jobId'], 'jobId')).toBeUndefined();
  });
});
