import { BridgeConfig, loadConfig } from '@bridge/config';
import { BridgeMetrics } from '@bridge/metrics';
import { RecordClient, RedisStatus } from '@bridge/queue';
import { SfnErrorKind, TaskCallbacks } from '@bridge/sfn';
import IORedis from 'ioredis';
import { HeartbeatSchedule } from './heartbeat-schedule.service';
import { HeartbeatService, STRANDED_AFTER_MS } from './heartbeat.service';
import { leadMs, TICK_MS } from './heartbeat-timing';
import { StrandedTask, StrandedTasks } from './stranded-tasks';
import { TaskCanceller } from './task-canceller.service';

const ARN = 'arn:aws:states:us-east-1:123456789012:activity:unit';
const INTERVAL_MS = 2_000;

/** How an open task's record and job read (the READ_TASK_SCRIPT reply's fields). */
interface OpenRecord {
  token: string;
  receivedAt?: number;
  trace?: string;
  /** Relay lease end (Redis ms); 0: nobody relays it. */
  lease?: number;
  /** The job's finishedOn; undefined while it waits or runs. */
  finishedOn?: number;
  /** Redis ms a read first found the job gone; undefined (0 in the reply) while it exists. */
  goneSince?: number;
  /** Redis' clock (TIME) at the read. */
  redisNow?: number;
}

/** `sfnBridgeReadTask`'s reply (task-record.lua.ts READ_TASK_SCRIPT) for an open task. */
function openReply(r: OpenRecord): (string | number)[] {
  return [
    'open',
    r.token,
    'unit',
    'unit',
    String(r.receivedAt ?? Date.now()),
    r.trace ?? '',
    String(r.lease ?? 0),
    r.finishedOn === undefined ? '' : String(r.finishedOn),
    r.goneSince ?? 0,
    r.redisNow ?? Date.now(),
  ];
}
const MISSING: (string | number)[] = [];
const CLOSED = ['closed', 'relayed', 'unit'];

/**
 * The connection's record reads: `replies` by job id; any other id `job-<token>` reads as an open
 * task holding `<token>`, its job waiting or active.
 */
function setup(status: string, claimDue: jest.Mock = jest.fn().mockResolvedValue([]), replies = new Map<string, (string | number)[]>()) {
  const config: BridgeConfig = loadConfig({
    BRIDGE_BINDINGS: `bindings:\n  - activityArn: ${ARN}\n    queue: unit\n    heartbeatSeconds: ${INTERVAL_MS / 1000}\n`,
  });
  const readTask = jest.fn(
    async (_record: string, _prefix: string, jobId: string) => replies.get(jobId) ?? openReply({ token: jobId.replace(/^job-/, '') }),
  );
  const redis = {
    status,
    defineCommand: jest.fn(),
    hset: jest.fn().mockResolvedValue(1),
    sfnBridgeClaimDue: claimDue,
    sfnBridgeReadTask: readTask,
    sfnBridgeDropOrphan: jest.fn().mockResolvedValue(1),
    zadd: jest.fn().mockResolvedValue(1),
    zrem: jest.fn().mockResolvedValue(1),
    pipeline: () => ({ zadd: jest.fn(), exec: jest.fn().mockResolvedValue([]) }),
  };
  const schedule = new HeartbeatSchedule(redis as unknown as IORedis, config);
  const callbacks = { heartbeat: jest.fn().mockResolvedValue({ ok: true }) };
  const canceller = { cancel: jest.fn().mockResolvedValue('removed') };
  const metrics = new BridgeMetrics();
  const stranded = new StrandedTasks();
  const reported: StrandedTask[] = [];
  stranded.handle((task) => reported.push(task));
  const service = new HeartbeatService(
    config,
    { up: status === 'ready' } as unknown as RedisStatus,
    redis as unknown as RecordClient,
    schedule,
    canceller as unknown as TaskCanceller,
    callbacks as unknown as TaskCallbacks,
    metrics,
    stranded,
  );
  const beatsOf = (token: string) => callbacks.heartbeat.mock.calls.filter((c) => c[0] === token).length;
  const entry = (token: string) => ({
    taskToken: token,
    binding: config.bindings[0].name,
    intervalMs: INTERVAL_MS,
    nextDueAt: Date.now() + INTERVAL_MS,
  });
  /** heartbeats_total by result label. */
  const heartbeatCounts = async () =>
    Object.fromEntries((await metrics.heartbeats.get()).values.map((v) => [String(v.labels.result), v.value]));
  return { config, redis, schedule, callbacks, canceller, metrics, reported, service, beatsOf, entry, heartbeatCounts };
}

describe('HeartbeatService: what memory keeps alive', () => {
  let service: HeartbeatService | undefined;
  beforeEach(() => jest.useFakeTimers());
  afterEach(async () => {
    const stopping = service?.onModuleDestroy();
    await jest.advanceTimersByTimeAsync(3_000);
    await stopping;
    service = undefined;
    jest.useRealTimers();
  });

  it('heartbeats a taken, not yet written token from memory every interval, with Redis up', async () => {
    const s = setup('ready');
    service = s.service;
    s.schedule.take('job-1', s.entry('pending'));
    s.service.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(INTERVAL_MS - TICK_MS);
    expect(s.beatsOf('pending')).toBe(0);
    await jest.advanceTimersByTimeAsync(2 * TICK_MS);
    expect(s.beatsOf('pending')).toBe(1);
    await jest.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(s.beatsOf('pending')).toBe(2);
  });

  it('leaves a written token to the shared schedule while Redis works (no heartbeat from memory)', async () => {
    const s = setup('ready');
    service = s.service;
    s.schedule.take('job-1', s.entry('written'));
    s.schedule.written('job-1');
    s.service.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(3 * INTERVAL_MS);
    expect({ beats: s.beatsOf('written'), claims: s.redis.sfnBridgeClaimDue.mock.calls.length > 0 }).toEqual({ beats: 0, claims: true });
  });

  it('heartbeats every known token from memory while Redis is up but refusing writes (READONLY)', async () => {
    const readonly = jest.fn().mockRejectedValue(new Error("READONLY You can't write against a read only replica."));
    const s = setup('ready', readonly);
    service = s.service;
    s.schedule.take('job-1', s.entry('written'));
    s.schedule.written('job-1');
    s.service.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(INTERVAL_MS + 2 * TICK_MS);
    expect(s.beatsOf('written')).toBe(1);
  });

  it('heartbeats a due token from memory within 400 ms of a claim that hangs with the client still ready', async () => {
    const hanging = jest
      .fn()
      .mockResolvedValueOnce([])
      .mockReturnValue(new Promise(() => undefined));
    const s = setup('ready', hanging);
    service = s.service;
    s.schedule.take('job-1', { ...s.entry('written'), nextDueAt: Date.now() + 2 * TICK_MS });
    s.schedule.written('job-1');
    s.service.onApplicationBootstrap();
    // Tick 1 claims nothing, tick 2 (at 2 ticks, when the token falls due) hangs; memory within 400 ms.
    await jest.advanceTimersByTimeAsync(2 * TICK_MS + 400);
    expect({ beats: s.beatsOf('written'), claims: hanging.mock.calls.length }).toEqual({ beats: 1, claims: 2 });
  });

  it('heartbeats every known token from memory while Redis is unreachable, and a pending one is never pruned', async () => {
    const s = setup('reconnecting');
    service = s.service;
    s.schedule.take('job-1', s.entry('written'));
    s.schedule.written('job-1');
    s.schedule.take('job-2', s.entry('pending'));
    s.service.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(INTERVAL_MS + 2 * TICK_MS);
    expect({ written: s.beatsOf('written'), pending: s.beatsOf('pending') }).toEqual({ written: 1, pending: 1 });
    expect(s.schedule.pruneMemory()).toBe(0);
  });

  it('a shared-schedule removal (no record yet) does not drop a token whose write is still in flight', async () => {
    const s = setup('ready');
    s.schedule.take('job-1', s.entry('pending'));
    await s.schedule.remove('job-1');
    expect(s.schedule.memoryCounts()).toEqual({ known: 1, pending: 1 });
    s.schedule.forget('job-1');
    expect(s.schedule.memoryCounts()).toEqual({ known: 0, pending: 0 });
  });

  it('an orphan entry dropped from the shared schedule does not drop a token whose write is still in flight', async () => {
    const s = setup('ready');
    const drop = s.redis.sfnBridgeDropOrphan;
    s.schedule.take('job-1', s.entry('pending'));
    expect(await s.schedule.dropOrphan('job-1', `${s.config.redis.prefix}:sfn-bridge:task:job-1`)).toBe(true);
    expect({ calls: drop.mock.calls.length, memory: s.schedule.memoryCounts() }).toEqual({ calls: 1, memory: { known: 1, pending: 1 } });
  });
});

describe('HeartbeatService: the shared schedule', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('sends a throttled heartbeat again within 100 ms by itself (claimed once)', async () => {
    const claimDue = jest.fn().mockResolvedValueOnce(['job-throttled']).mockResolvedValue([]);
    const s = setup('ready', claimDue);
    s.callbacks.heartbeat
      .mockResolvedValueOnce({ ok: false, kind: SfnErrorKind.Throttled, name: 'ThrottlingException' })
      .mockResolvedValue({ ok: true });
    const { service } = s;
    service.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(TICK_MS);
    const first = s.beatsOf('throttled');
    await jest.advanceTimersByTimeAsync(100);
    // Later claims return nothing: the second call is the quick retry.
    expect({ first, within100ms: s.beatsOf('throttled'), rescheduled: s.redis.zadd.mock.calls.length }).toEqual({
      first: 1,
      within100ms: 2,
      rescheduled: 1,
    });
    const stopping = service.onModuleDestroy();
    await jest.advanceTimersByTimeAsync(3_000);
    await stopping;
  });

  it('makes a heartbeat refused twice due again at once, for the next tick of any replica', async () => {
    const claimDue = jest.fn().mockResolvedValueOnce(['job-refused']).mockResolvedValue([]);
    const s = setup('ready', claimDue);
    const refused = { ok: false, kind: SfnErrorKind.Transient, name: 'ServiceUnavailable' };
    s.callbacks.heartbeat.mockResolvedValueOnce(refused).mockResolvedValueOnce(refused).mockResolvedValue({ ok: true });
    const { service } = s;
    service.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(TICK_MS + 100);
    const [key, mode, dueAt, member] = s.redis.zadd.mock.calls[0] as [string, string, number, string];
    expect({ calls: s.beatsOf('refused'), key, mode, member, dueNow: dueAt <= Date.now() }).toEqual({
      calls: 2,
      key: s.schedule.keys.schedule,
      mode: 'XX',
      member: 'job-refused',
      dueNow: true,
    });
    const stopping = service.onModuleDestroy();
    await jest.advanceTimersByTimeAsync(3_000);
    await stopping;
  });

  it('ticks every TICK_MS while the shared schedule holds tokens, and slowly while it is empty', async () => {
    const count = async (reply: string[] | null) => {
      const claimDue = jest.fn().mockResolvedValue(reply);
      const { service } = setup('ready', claimDue);
      service.onApplicationBootstrap();
      await jest.advanceTimersByTimeAsync(3_000);
      const stopping = service.onModuleDestroy();
      await jest.advanceTimersByTimeAsync(3_000);
      await stopping;
      return claimDue.mock.calls.length;
    };
    const scheduled = await count([]);
    const empty = await count(null);
    // 3 s: ~30 claims at 100 ms (a pass's own time stretches a tick a little); ~3 at 1 s.
    expect({ scheduled: scheduled >= 25, empty: empty <= 4, seen: { scheduled, empty } }).toEqual({
      scheduled: true,
      empty: true,
      seen: { scheduled, empty },
    });
  });

  it('sends the next pass while one heartbeat call of an earlier pass is still unanswered', async () => {
    const claimDue = jest.fn().mockResolvedValueOnce(['job-slow']).mockResolvedValueOnce(['job-fast']).mockResolvedValue([]);
    const s = setup('ready', claimDue);
    const never = new Promise(() => undefined);
    s.callbacks.heartbeat.mockImplementation((token: string) => (token === 'slow' ? never : Promise.resolve({ ok: true })));
    const { service } = s;
    service.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(3 * TICK_MS);
    expect({ slow: s.beatsOf('slow'), fast: s.beatsOf('fast'), claims: claimDue.mock.calls.length }).toEqual({
      slow: 1,
      fast: 1,
      claims: 3,
    });
    const stopping = service.onModuleDestroy();
    await jest.advanceTimersByTimeAsync(3_000);
    await stopping;
  });
});

describe('HeartbeatService: what the task record says (one shared pass)', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  /** Claims `replies`' job ids once, lets the pass run, stops the service. */
  async function pass(replies: Map<string, (string | number)[]>, configure?: (s: ReturnType<typeof setup>) => void) {
    const claimDue = jest
      .fn()
      .mockResolvedValueOnce([...replies.keys()])
      .mockResolvedValue([]);
    const s = setup('ready', claimDue, replies);
    configure?.(s);
    s.service.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(3 * TICK_MS);
    const stopping = s.service.onModuleDestroy();
    await jest.advanceTimersByTimeAsync(3_000);
    await stopping;
    return s;
  }

  it('drops the schedule entry of a task with no record, atomically against its record key, and sends nothing', async () => {
    const s = await pass(new Map([['job-gone', MISSING]]));
    const recordKey = `${s.config.redis.prefix}:sfn-bridge:task:job-gone`;
    const [scheduleKey, checkedKey, member] = s.redis.sfnBridgeDropOrphan.mock.calls[0] as string[];
    expect({
      read: s.redis.sfnBridgeReadTask.mock.calls[0],
      drops: s.redis.sfnBridgeDropOrphan.mock.calls.length,
      dropped: { scheduleKey, checkedKey, member },
      beats: s.callbacks.heartbeat.mock.calls.length,
    }).toEqual({
      read: [recordKey, s.config.redis.prefix, 'job-gone'],
      drops: 1,
      dropped: { scheduleKey: s.schedule.keys.schedule, checkedKey: recordKey, member: 'job-gone' },
      beats: 0,
    });
  });

  it("removes a closed task from the schedule and its binding's outstanding set, and sends nothing", async () => {
    const s = await pass(new Map([['job-closed', CLOSED]]));
    expect({
      removed: s.redis.zrem.mock.calls,
      beats: s.callbacks.heartbeat.mock.calls.length,
      counted: await s.heartbeatCounts(),
    }).toEqual({
      removed: [
        [s.schedule.keys.schedule, 'job-closed'],
        [`${s.config.redis.prefix}:sfn-bridge:outstanding:unit`, 'job-closed'],
      ],
      beats: 0,
      counted: {},
    });
  });

  it("heartbeats an open task with its record's token and reschedules it about one interval on", async () => {
    let claimedAt = 0;
    const s = await pass(new Map([['job-open', openReply({ token: 'open' })]]), (t) =>
      t.callbacks.heartbeat.mockImplementation(async () => ((claimedAt = Date.now()), { ok: true })),
    );
    const [key, mode, dueAt, member] = s.redis.zadd.mock.calls[0] as [string, string, number, string];
    expect({
      beats: s.beatsOf('open'),
      key,
      mode,
      member,
      dueIn: dueAt - claimedAt,
      counted: await s.heartbeatCounts(),
      stranded: s.reported,
    }).toEqual({
      beats: 1,
      key: s.schedule.keys.schedule,
      mode: 'XX',
      member: 'job-open',
      dueIn: INTERVAL_MS - leadMs(INTERVAL_MS),
      counted: { ok: 1 },
      stranded: [],
    });
  });

  it('hands a task gone to the canceller with its record and counts it expired when cancelled', async () => {
    const trace = JSON.stringify({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    const s = await pass(new Map([['job-x', openReply({ token: 'x', receivedAt: 1_700_000_000_000, trace })]]), (t) =>
      t.callbacks.heartbeat.mockResolvedValue({ ok: false, kind: SfnErrorKind.TaskGone, name: 'TaskTimedOut' }),
    );
    expect({
      cancels: s.canceller.cancel.mock.calls,
      counted: await s.heartbeatCounts(),
      rescheduled: s.redis.zadd.mock.calls.length,
    }).toEqual({
      cancels: [['job-x', { taskToken: 'x', binding: 'unit', queue: 'unit', receivedAt: 1_700_000_000_000, trace }, 'TaskTimedOut']],
      counted: { expired: 1 },
      rescheduled: 0,
    });
  });

  it('counts a task gone as closed, not expired, when the canceller did not cancel it (closed or being relayed)', async () => {
    const s = await pass(new Map([['job-x', openReply({ token: 'x' })]]), (t) => {
      t.callbacks.heartbeat.mockResolvedValue({ ok: false, kind: SfnErrorKind.TaskGone, name: 'TaskDoesNotExist' });
      t.canceller.cancel.mockResolvedValue(undefined);
    });
    expect({ cancels: s.canceller.cancel.mock.calls.length, counted: await s.heartbeatCounts() }).toEqual({
      cancels: 1,
      counted: { closed: 1 },
    });
  });

  // Redis' clock a minute behind this replica's: every decision below flips if made on Date.now().
  const redisNow = () => Date.now() - 60_000;
  const longAgo = () => redisNow() - STRANDED_AFTER_MS - 1_000;

  it('reports an open task whose job finished over STRANDED_AFTER_MS ago with no live lease, and still heartbeats it', async () => {
    const s = await pass(
      new Map([
        ['job-finished', openReply({ token: 'finished', finishedOn: longAgo(), redisNow: redisNow() })],
        ['job-lease-ended', openReply({ token: 'lease-ended', finishedOn: longAgo(), lease: redisNow() - 1, redisNow: redisNow() })],
      ]),
    );
    expect({
      reported: [...s.reported].sort((a, b) => a.jobId.localeCompare(b.jobId)),
      beats: ['finished', 'lease-ended'].map(s.beatsOf),
    }).toEqual({
      reported: [
        { queue: 'unit', jobId: 'job-finished' },
        { queue: 'unit', jobId: 'job-lease-ended' },
      ],
      beats: [1, 1],
    });
  });

  it('reports no task whose relay holds a live lease, whose job finished recently, or whose job still runs', async () => {
    const s = await pass(
      new Map([
        // Live by Redis' clock, ended a minute ago by this replica's.
        ['job-leased', openReply({ token: 'leased', finishedOn: longAgo(), lease: redisNow() + 5_000, redisNow: redisNow() })],
        // 5 s ago by Redis' clock, 65 s ago by this replica's.
        ['job-recent', openReply({ token: 'recent', finishedOn: redisNow() - 5_000, redisNow: redisNow() })],
        ['job-running', openReply({ token: 'running', receivedAt: longAgo(), redisNow: redisNow() })],
      ]),
    );
    expect({ reported: s.reported, beats: ['leased', 'recent', 'running'].map(s.beatsOf) }).toEqual({ reported: [], beats: [1, 1, 1] });
  });
});
