import { BridgeConfig, loadConfig } from '@bridge/config';
import { BridgeMetrics } from '@bridge/metrics';
import { RedisStatus, RelayJobData } from '@bridge/queue';
import { SfnErrorKind, TaskCallbacks } from '@bridge/sfn';
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { HeartbeatSchedule } from './heartbeat-schedule.service';
import { HeartbeatService } from './heartbeat.service';
import { TICK_MS } from './heartbeat-timing';
import { TaskCanceller } from './task-canceller.service';

const ARN = 'arn:aws:states:us-east-1:123456789012:activity:unit';
const INTERVAL_MS = 2_000;

/** A relay queue whose jobs BullMQ's Job.fromId can read: job id `job-<token>` holds `<token>`. */
function relayQueueFake(binding: string): Queue<RelayJobData> {
  const queue = {
    name: 'relay',
    toKey: (type: string) => `test:relay:${type}`,
    keys: {},
    opts: {},
    backend: {
      getJobData: async (id: string) => ({
        name: 'relay',
        data: JSON.stringify({ taskToken: id.replace(/^job-/, ''), binding, queue: 'unit' }),
        opts: '{}',
        timestamp: String(Date.now()),
      }),
    },
  };
  return queue as unknown as Queue<RelayJobData>;
}

/** `relayJobs`: the relay queue answers Job.fromId (shared-schedule passes); otherwise an empty stand-in. */
function setup(status: string, claimDue: jest.Mock = jest.fn().mockResolvedValue([]), relayJobs = false) {
  const config: BridgeConfig = loadConfig({
    BRIDGE_BINDINGS: `bindings:\n  - activityArn: ${ARN}\n    queue: unit\n    heartbeatSeconds: ${INTERVAL_MS / 1000}\n`,
  });
  const redis = {
    status,
    defineCommand: jest.fn(),
    sfnBridgeClaimDue: claimDue,
    zadd: jest.fn().mockResolvedValue(1),
    zrem: jest.fn().mockResolvedValue(1),
    pipeline: () => ({ zadd: jest.fn(), exec: jest.fn().mockResolvedValue([]) }),
  };
  const schedule = new HeartbeatSchedule(redis as unknown as IORedis, config);
  const callbacks = { heartbeat: jest.fn().mockResolvedValue({ ok: true }) };
  const service = new HeartbeatService(
    config,
    { up: status === 'ready' } as unknown as RedisStatus,
    relayJobs ? relayQueueFake(config.bindings[0].name) : ({} as Queue<RelayJobData>),
    schedule,
    {} as TaskCanceller,
    callbacks as unknown as TaskCallbacks,
    new BridgeMetrics(),
  );
  const beatsOf = (token: string) => callbacks.heartbeat.mock.calls.filter((c) => c[0] === token).length;
  const entry = (token: string) => ({
    taskToken: token,
    binding: config.bindings[0].name,
    intervalMs: INTERVAL_MS,
    nextDueAt: Date.now() + INTERVAL_MS,
  });
  return { config, redis, schedule, callbacks, service, beatsOf, entry };
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

  it('a shared-schedule removal (no relay job yet) does not drop a token whose write is still in flight', async () => {
    const s = setup('ready');
    s.schedule.take('job-1', s.entry('pending'));
    await s.schedule.remove('job-1');
    expect(s.schedule.memoryCounts()).toEqual({ known: 1, pending: 1 });
    s.schedule.forget('job-1');
    expect(s.schedule.memoryCounts()).toEqual({ known: 0, pending: 0 });
  });

  it('an orphan entry dropped from the shared schedule does not drop a token whose write is still in flight', async () => {
    const s = setup('ready');
    const drop = jest.fn().mockResolvedValue(1);
    Object.assign(s.redis, { sfnBridgeDropOrphan: drop });
    s.schedule.take('job-1', s.entry('pending'));
    expect(await s.schedule.dropOrphan('job-1', 'test:relay:job-1')).toBe(true);
    expect({ calls: drop.mock.calls.length, memory: s.schedule.memoryCounts() }).toEqual({ calls: 1, memory: { known: 1, pending: 1 } });
  });
});

describe('HeartbeatService: the shared schedule', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('sends a throttled heartbeat again within 100 ms by itself (claimed once)', async () => {
    const claimDue = jest.fn().mockResolvedValueOnce(['job-throttled']).mockResolvedValue([]);
    const s = setup('ready', claimDue, true);
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
    const s = setup('ready', claimDue, true);
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
      const { service } = setup('ready', claimDue, true);
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
    const s = setup('ready', claimDue, true);
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
