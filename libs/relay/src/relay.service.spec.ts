/**
 * RelayService against real Redis: task records written and read by TaskRecords' scripts (claims,
 * leases in Redis time, the kept job end, closes that unschedule the task and acknowledge stream
 * entries), the real HeartbeatSchedule's keys, with Step Functions and metrics faked. Shows that
 * each job end is sent once, probed first when an earlier claim may have sent, retried after
 * transient errors, left alone when closed or held elsewhere, that at most RELAY_CONCURRENCY relays
 * run at once (the rest wait, a second end of a job joins its relay), and that a claim that kept
 * how the job ended lets a later relay send that once the event and the job are gone.
 */
import { BridgeConfig } from '@bridge/config';
import { LimitKeys } from '@bridge/common';
import { HeartbeatSchedule } from '@bridge/heartbeat';
import { BridgeMetrics } from '@bridge/metrics';
import { JobEndHeard, jobIdForToken, RELAY_GROUP, TaskRecords, tombstoneMs } from '@bridge/queue';
import { CallbackResult, SfnErrorKind, TaskCallbacks } from '@bridge/sfn';
import IORedis from 'ioredis';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../../../test/support/redis';
import { waitFor, within } from '../../../test/support/wait-for';
import { JobEndKind } from './job-end';
import { AMBIGUOUS_SETTLE_MS, RELAY_LEASE_MS } from './relay-attempt';
import { RelayRequest, RelayService } from './relay.service';

const QUEUE = 'orders';
const BINDING = 'order-activity';
const RETRY_FOR_MS = 60_000;
const OK: CallbackResult = { ok: true };
const failure = (kind: SfnErrorKind, name: string): CallbackResult => ({ ok: false, kind, name, error: new Error(`${name} (fake)`) });
const gone = (name = 'TaskTimedOut') => failure(SfnErrorKind.TaskGone, name);
const throttled = () => failure(SfnErrorKind.Throttled, 'ThrottlingException');

type Method = 'success' | 'failure' | 'heartbeat';
interface Call {
  method: Method;
  token: string;
  args: unknown[];
  at: number;
}

/**
 * Step Functions: records every call; answers scripted per method (then `otherwise`, OK by default).
 * `concurrency()`: calls unanswered now, and the most there ever were at once.
 */
function fakeCallbacks() {
  const calls: Call[] = [];
  const scripted: Record<Method, (CallbackResult | Promise<CallbackResult>)[]> = { success: [], failure: [], heartbeat: [] };
  const otherwise: Record<Method, CallbackResult> = { success: OK, failure: OK, heartbeat: OK };
  let inside = 0;
  let most = 0;
  const answer = (method: Method, token: string, args: unknown[]) => {
    calls.push({ method, token, args, at: Date.now() });
    most = Math.max(most, ++inside);
    return Promise.resolve(scripted[method].shift() ?? otherwise[method]).finally(() => inside--);
  };
  const callbacks = {
    success: (token: string, output: string, signal?: AbortSignal) => answer('success', token, [output, signal]),
    failure: (token: string, error: string, cause: string, signal?: AbortSignal) => answer('failure', token, [error, cause, signal]),
    heartbeat: (token: string) => answer('heartbeat', token, []),
  };
  const of = (method: Method) => calls.filter((c) => c.method === method);
  const counts = () => ({ success: of('success').length, failure: of('failure').length, heartbeat: of('heartbeat').length });
  const concurrency = () => ({ now: inside, most });
  return { callbacks: callbacks as unknown as TaskCallbacks, calls, scripted, otherwise, of, counts, concurrency };
}

/** The metrics the relay touches, as lists of label sets. */
function fakeMetrics() {
  const relays: Record<string, string>[] = [];
  const relayErrors: Record<string, string>[] = [];
  const observed: string[] = [];
  const histogram = (name: string) => ({ observe: () => observed.push(name) });
  const metrics = {
    relays: { inc: (labels: Record<string, string>) => relays.push(labels) },
    relayErrors: { inc: (labels: Record<string, string>) => relayErrors.push(labels) },
    endToEndSeconds: histogram('endToEnd'),
    relaySeconds: histogram('relay'),
    queueWaitSeconds: histogram('queueWait'),
    processingSeconds: histogram('processing'),
  };
  return { metrics: metrics as unknown as BridgeMetrics, relays, relayErrors, observed };
}

/** A promise to hand out as a pending Step Functions answer, settled by the test. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const open: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of open.splice(0).reverse()) await close();
});

/** What a close that took the task out everywhere leaves (afterClose), with these relay metrics. */
function closedEverywhere(jobId: string, relays: { binding: string; outcome: string }[]) {
  return { pending: 0, scheduled: { schedule: false, outstanding: false }, unscheduledHere: [jobId], relays };
}

async function setup(relay: Partial<BridgeConfig['relay']> = {}) {
  const prefix = uniquePrefix('relay');
  const redis = new IORedis(REDIS_URL, { maxRetriesPerRequest: null });
  const config = {
    relay: { concurrency: 4, attempts: 3, backoffMs: 20, ...relay },
    redis: { prefix },
    bindings: [{ name: BINDING, queue: QUEUE, heartbeatSeconds: 60 }],
    enqueue: { retryForMs: RETRY_FOR_MS },
    log: { payloads: false },
  } as unknown as BridgeConfig;
  const sfn = fakeCallbacks();
  const metrics = fakeMetrics();
  // The real schedule: the close script removes the task from its keys; closedElsewhere is watched.
  const schedule = new HeartbeatSchedule(redis, config);
  const closedElsewhere = jest.spyOn(schedule, 'closedElsewhere');
  /** Job ids the relay told the schedule it closed (the script unscheduled them). */
  const unscheduledHere = () => closedElsewhere.mock.calls.map(([jobId]) => jobId);
  const outstanding = new LimitKeys(prefix).outstanding(BINDING);
  const service = new RelayService(config, redis, sfn.callbacks, metrics.metrics, schedule);
  const records = new TaskRecords(redis, prefix, tombstoneMs(RETRY_FOR_MS));
  open.push(async () => {
    await service.onModuleDestroy();
    await redis.quit();
    await cleanupPrefix(prefix);
  });

  let tasks = 0;
  /**
   * A task as the producer writes it: its job hash first (`job`: BullMQ's fields; the record is
   * written only if the job is there), then the record, heartbeat-schedule entry and
   * outstanding-set member.
   */
  const task = async (job: Record<string, string>) => {
    const token = `token-${prefix}-${++tasks}`;
    const jobId = jobIdForToken(token);
    await redis.hset(records.keys.job(QUEUE, jobId), job);
    const written = await records.write(jobId, { taskToken: token, binding: BINDING, queue: QUEUE, receivedAt: Date.now() - 5_000 });
    expect({ written }).toEqual({ written: true });
    await redis.zadd(schedule.keys.schedule, 'NX', Date.now() + 60_000, jobId);
    await redis.zadd(outstanding, 'NX', Date.now() * 2, jobId);
    return { token, jobId };
  };
  /** Whether the task is still in the heartbeat schedule and in its binding's outstanding set. */
  const scheduled = async (jobId: string) => ({
    schedule: (await redis.zscore(schedule.keys.schedule, jobId)) !== null,
    outstanding: (await redis.zscore(outstanding, jobId)) !== null,
  });
  const events = records.keys.events(QUEUE);
  /** An event entry of the binding queue read by this replica's consumer and not acknowledged. */
  const pendingEntry = async (jobId: string, event = 'completed'): Promise<string> => {
    await redis.xgroup('CREATE', events, RELAY_GROUP, '$', 'MKSTREAM').catch((err: Error) => {
      if (!err.message.includes('BUSYGROUP')) throw err;
    });
    const id = (await redis.xadd(events, '*', 'event', event, 'jobId', jobId))!;
    await redis.xreadgroup('GROUP', RELAY_GROUP, service.owner, 'COUNT', 100, 'STREAMS', events, '>');
    return id;
  };
  const pendingCount = async () => Number(((await redis.xpending(events, RELAY_GROUP)) as [number])[0]);
  /** Ids of the group's pending entries, sorted. */
  const pendingIds = async () =>
    ((await redis.xpending(events, RELAY_GROUP, '-', '+', 1_000)) as [string, string, number, number][]).map(([id]) => id).sort();
  const request = (jobId: string, kind: JobEndKind, extra: Partial<RelayRequest> = {}): RelayRequest => ({
    queue: QUEUE,
    jobId,
    kind,
    entryIds: [],
    ...extra,
  });
  /** Hands `req` over and waits until its relay has ended here (retries and backoff included). */
  const relayed = async (req: RelayRequest) => {
    expect(service.relay(req)).toBe(true);
    await waitFor(() => !service.isRunning(req.jobId), { message: `the relay of ${req.jobId.slice(0, 8)} to end` });
  };
  const record = (jobId: string) => redis.hgetall(records.keys.record(jobId));
  /**
   * A claim by a replica that died holding the task (SIGKILL: never closed), its lease lapsed
   * since. `heard`: how the job ended as that replica heard it (the claim keeps it in the record).
   */
  const claimedByDeadReplica = async (jobId: string, heard?: JobEndHeard) => {
    const earlier = await records.claim(QUEUE, jobId, 'dead-replica', 1, heard, []);
    expect(earlier.state).toBe('claimed');
    await waitFor(
      async () => {
        const state = await records.read(jobId);
        return state.state === 'open' && state.leaseUntil < state.redisNow;
      },
      { message: "the dead replica's 1 ms lease to lapse" },
    );
  };
  /**
   * Ends this replica's lease on a task now, as if its send had outlived it (RELAY_LEASE_MS is
   * ~14 s: the lease field is set in the past instead of waiting), so another may claim or cancel it.
   */
  const lapseLease = (jobId: string) => redis.hset(records.keys.record(jobId), 'lease', 1);
  /** What a close left behind: pending entries, the task's schedule and outstanding entries, this replica's memory, relay metrics. */
  const afterClose = async (jobId: string) => ({
    pending: await pendingCount(),
    scheduled: await scheduled(jobId),
    unscheduledHere: unscheduledHere(),
    relays: metrics.relays,
  });
  return {
    prefix,
    redis,
    config,
    service,
    records,
    unscheduledHere,
    task,
    scheduled,
    pendingEntry,
    pendingCount,
    pendingIds,
    request,
    relayed,
    record,
    claimedByDeadReplica,
    lapseLease,
    afterClose,
    ...sfn,
    ...metrics,
  };
}

const TIMES = { timestamp: String(Date.now() - 4_000), processedOn: String(Date.now() - 3_000), finishedOn: String(Date.now() - 1_000) };

describe('RelayService (real Redis)', () => {
  it('sends a first claim at once with the JSON output, no probe, and closes the task as relayed and unscheduled', async () => {
    const t = await setup();
    const { token, jobId } = await t.task(TIMES);
    const entry = await t.pendingEntry(jobId);
    await t.relayed(t.request(jobId, 'completed', { returnvalue: '{"answer":42}', entryIds: [entry], finishedAt: Date.now() - 1_000 }));

    expect(t.counts()).toEqual({ success: 1, failure: 0, heartbeat: 0 });
    const [sent] = t.of('success');
    expect(sent.token).toBe(token);
    expect(sent.args[0]).toBe('{"answer":42}');
    expect(sent.args[1]).toBeInstanceOf(AbortSignal);
    const closed = await t.record(jobId);
    expect({ closed: closed.closed, reason: closed.reason, token: closed.token, lease: closed.lease }).toEqual({
      closed: 'relayed',
      reason: 'success',
      token: undefined,
      lease: undefined,
    });
    const ttl = await t.redis.pttl(t.records.keys.record(jobId));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(tombstoneMs(RETRY_FOR_MS));
    expect(await t.afterClose(jobId)).toEqual(closedEverywhere(jobId, [{ binding: BINDING, outcome: 'success' }]));
    expect([...t.observed].sort()).toEqual(['endToEnd', 'processing', 'queueWait', 'relay']);
  });

  it('sends a failed job as SendTaskFailure named from the stack trace in the job hash, with its message', async () => {
    const t = await setup();
    const stacktrace = JSON.stringify(['RangeError: index 7 out of range\n    at pick (/app/worker.js:12:5)']);
    const { token, jobId } = await t.task({ ...TIMES, stacktrace, failedReason: 'index 7 out of range' });
    await t.relayed(t.request(jobId, 'failed', { failedReason: 'index 7 out of range' }));

    expect(t.counts()).toEqual({ success: 0, failure: 1, heartbeat: 0 });
    const [sent] = t.of('failure');
    expect([sent.token, sent.args[0], sent.args[1]]).toEqual([token, 'RangeError', 'index 7 out of range']);
    const closed = await t.record(jobId);
    expect([closed.closed, closed.reason]).toEqual(['relayed', 'RangeError']);
    expect(t.relays).toEqual([{ binding: BINDING, outcome: 'failure' }]);
  });

  it('fails a job removed before it finished with Bridge.JobMissing', async () => {
    const t = await setup();
    const { jobId } = await t.task({ timestamp: TIMES.timestamp });
    // Removed while waiting: the job hash goes after the record was written.
    await t.redis.del(t.records.keys.job(QUEUE, jobId));
    await t.relayed(t.request(jobId, 'removed'));

    expect(t.counts()).toEqual({ success: 0, failure: 1, heartbeat: 0 });
    const [sent] = t.of('failure');
    expect(sent.args[0]).toBe('Bridge.JobMissing');
    expect(String(sent.args[1])).toContain(QUEUE);
    expect((await t.record(jobId)).reason).toBe('Bridge.JobMissing');
  });

  describe('a task claimed before (its earlier relay may have sent)', () => {
    it('probes first and, finding the task gone, closes it as recovered without sending', async () => {
      const t = await setup();
      const { token, jobId } = await t.task(TIMES);
      await t.claimedByDeadReplica(jobId);
      t.scripted.heartbeat.push(gone('TaskTimedOut'));
      const entry = await t.pendingEntry(jobId);
      await t.relayed(t.request(jobId, 'completed', { returnvalue: '{}', entryIds: [entry] }));

      expect(t.counts()).toEqual({ success: 0, failure: 0, heartbeat: 1 });
      expect(t.of('heartbeat')[0].token).toBe(token);
      const closed = await t.record(jobId);
      expect({ closed: closed.closed, reason: closed.reason, attempts: closed.attempts, owner: closed.owner }).toEqual({
        closed: 'recovered',
        reason: 'TaskTimedOut',
        attempts: '2',
        owner: t.service.owner,
      });
      expect({ pending: await t.pendingCount(), relays: t.relays }).toEqual({
        pending: 0,
        relays: [{ binding: BINDING, outcome: 'recovered' }],
      });
    });

    it('sends after the probe when the task is still open', async () => {
      const t = await setup();
      const { jobId } = await t.task(TIMES);
      await t.claimedByDeadReplica(jobId);
      await t.relayed(t.request(jobId, 'completed', { returnvalue: '[1,2]' }));

      expect(t.calls.map((c) => c.method)).toEqual(['heartbeat', 'success']);
      expect((await t.record(jobId)).closed).toBe('relayed');
    });
  });

  it('closes the task as expired when the send finds it gone', async () => {
    const t = await setup();
    const { jobId } = await t.task(TIMES);
    t.scripted.success.push(gone('TaskDoesNotExist'));
    const entry = await t.pendingEntry(jobId);
    await t.relayed(t.request(jobId, 'completed', { returnvalue: '1', entryIds: [entry] }));

    expect(t.counts()).toEqual({ success: 1, failure: 0, heartbeat: 0 });
    const closed = await t.record(jobId);
    expect([closed.closed, closed.reason]).toEqual(['expired', 'TaskDoesNotExist']);
    expect(await t.afterClose(jobId)).toEqual(closedEverywhere(jobId, [{ binding: BINDING, outcome: 'expired' }]));
  });

  it('sends one SendTaskFailure Bridge.OutputTooLarge when Step Functions refuses the output', async () => {
    const t = await setup();
    const { token, jobId } = await t.task(TIMES);
    t.scripted.success.push(failure(SfnErrorKind.InvalidOutput, 'InvalidOutput'));
    await t.relayed(t.request(jobId, 'completed', { returnvalue: '"big"' }));

    expect(t.counts()).toEqual({ success: 1, failure: 1, heartbeat: 0 });
    const [sent] = t.of('failure');
    expect([sent.token, sent.args[0]]).toEqual([token, 'Bridge.OutputTooLarge']);
    expect(String(sent.args[1])).toContain('InvalidOutput (fake)');
    const closed = await t.record(jobId);
    expect([closed.closed, closed.reason]).toEqual(['relayed', 'Bridge.OutputTooLarge']);
  });

  it('retries a throttled send after its backoff, probing each new claim, until it lands', async () => {
    const backoffMs = 60;
    const t = await setup({ attempts: 3, backoffMs });
    const { jobId } = await t.task(TIMES);
    t.scripted.success.push(throttled(), throttled());
    await t.relayed(t.request(jobId, 'completed', { returnvalue: '{"n":1}' }));

    expect(t.calls.map((c) => c.method)).toEqual(['success', 'heartbeat', 'success', 'heartbeat', 'success']);
    const sends = t.of('success').map((c) => c.at);
    const gaps = [sends[1] - sends[0], sends[2] - sends[1]];
    // relayBackoffMs: the base after attempt 1, twice it after attempt 2 (1 ms of timer/clock slack).
    expect(gaps[0]).toBeGreaterThanOrEqual(backoffMs - 1);
    expect(gaps[1]).toBeGreaterThanOrEqual(2 * backoffMs - 1);
    const closed = await t.record(jobId);
    expect({ closed: closed.closed, reason: closed.reason, attempts: closed.attempts }).toEqual({
      closed: 'relayed',
      reason: 'success',
      attempts: '3',
    });
    expect(t.relayErrors).toEqual([
      { binding: BINDING, error: 'ThrottlingException' },
      { binding: BINDING, error: 'ThrottlingException' },
    ]);
  });

  it('closes the task as abandoned after RELAY_ATTEMPTS throttled sends, and stops its heartbeats', async () => {
    const t = await setup({ attempts: 3, backoffMs: 10 });
    const { jobId } = await t.task(TIMES);
    t.otherwise.success = throttled();
    const entry = await t.pendingEntry(jobId);
    await t.relayed(t.request(jobId, 'completed', { returnvalue: '{}', entryIds: [entry] }));

    expect(t.counts()).toEqual({ success: 3, failure: 0, heartbeat: 2 });
    const closed = await t.record(jobId);
    expect([closed.closed, closed.reason]).toEqual(['abandoned', 'ThrottlingException']);
    expect({ ...(await t.afterClose(jobId)), errors: t.relayErrors.length }).toEqual({
      ...closedEverywhere(jobId, [{ binding: BINDING, outcome: 'abandoned' }]),
      errors: 3,
    });
  });

  it('waits AMBIGUOUS_SETTLE_MS after a send whose answer was lost before it retries', async () => {
    const backoffMs = 20;
    const t = await setup({ attempts: 2, backoffMs });
    const { jobId } = await t.task(TIMES);
    t.scripted.success.push(failure(SfnErrorKind.Transient, 'ServiceUnavailable'));
    await t.relayed(t.request(jobId, 'completed', { returnvalue: '{}' }));

    expect(t.calls.map((c) => c.method)).toEqual(['success', 'heartbeat', 'success']);
    const [first, second] = t.of('success').map((c) => c.at);
    expect(second - first).toBeGreaterThanOrEqual(AMBIGUOUS_SETTLE_MS + backoffMs - 1);
    expect((await t.record(jobId)).closed).toBe('relayed');
  });

  it("sends nothing for a task another replica's live lease holds, and leaves its entry pending", async () => {
    const t = await setup();
    const { jobId } = await t.task(TIMES);
    expect((await t.records.claim(QUEUE, jobId, 'other-replica', RELAY_LEASE_MS, undefined, [])).state).toBe('claimed');
    const entry = await t.pendingEntry(jobId);
    await t.relayed(t.request(jobId, 'completed', { returnvalue: '{}', entryIds: [entry] }));

    expect(t.counts()).toEqual({ success: 0, failure: 0, heartbeat: 0 });
    const held = await t.record(jobId);
    expect({
      owner: held.owner,
      closed: held.closed,
      attempts: held.attempts,
      pending: await t.pendingCount(),
      scheduled: await t.scheduled(jobId),
      unscheduledHere: t.unscheduledHere(),
    }).toEqual({
      owner: 'other-replica',
      closed: undefined,
      attempts: '1',
      pending: 1,
      scheduled: { schedule: true, outstanding: true },
      unscheduledHere: [],
    });
  });

  it.each([
    ['closed before (cancelled)', true],
    ['without a record (not a bridge task)', false],
  ])('sends nothing for a job %s and acknowledges its entries', async (_, withRecord) => {
    const t = await setup();
    const jobId = withRecord ? (await t.task(TIMES)).jobId : 'not-a-task';
    if (withRecord) expect(await t.records.cancel(jobId, 'TaskTimedOut')).toBe('cancelled');
    const entries = [await t.pendingEntry(jobId), await t.pendingEntry(jobId, 'removed')];
    expect(await t.pendingCount()).toBe(2);
    await t.relayed(t.request(jobId, 'completed', { returnvalue: '{}', entryIds: entries }));

    expect(t.counts()).toEqual({ success: 0, failure: 0, heartbeat: 0 });
    expect({ pending: await t.pendingCount(), unscheduledHere: t.unscheduledHere(), relays: t.relays }).toEqual({
      pending: 0,
      unscheduledHere: [],
      relays: [],
    });
    if (withRecord) expect((await t.record(jobId)).closed).toBe('cancelled');
  });

  it('merges a second end of a job running or queued here into that relay: one send each, every entry acknowledged by its close', async () => {
    const t = await setup({ concurrency: 1 });
    const [a, b] = [await t.task(TIMES), await t.task(TIMES)];
    const aEntries = [await t.pendingEntry(a.jobId), await t.pendingEntry(a.jobId, 'removed')];
    const bEntries = [await t.pendingEntry(b.jobId), await t.pendingEntry(b.jobId, 'removed')];
    const answer = deferred<CallbackResult>();
    t.scripted.success.push(answer.promise);
    const reqA = t.request(a.jobId, 'completed', { returnvalue: '{"a":1}', entryIds: [aEntries[0]] });
    const reqB = t.request(b.jobId, 'completed', { returnvalue: '{"b":2}', entryIds: [bEntries[0]] });
    expect(t.service.relay(reqA)).toBe(true);
    await waitFor(() => t.of('success').length === 1, { message: `the send of a to start (saw ${t.of('success').length})` });
    // b waits for the one slot; a second end of each joins the relay there is (a runs, b waits).
    expect(t.service.relay(reqB)).toBe(true);
    const again = [
      t.service.relay(t.request(a.jobId, 'removed', { entryIds: [aEntries[1]] })),
      t.service.relay(t.request(b.jobId, 'removed', { entryIds: [bEntries[1]] })),
    ];
    expect({ again, inFlight: t.service.inFlight, a: reqA.entryIds, b: reqB.entryIds, pending: await t.pendingCount() }).toEqual({
      again: [true, true],
      inFlight: 2,
      a: aEntries,
      b: bEntries,
      pending: 4,
    });
    answer.resolve(OK);
    await waitFor(() => t.service.inFlight === 0, { message: `both relays to end (saw ${t.service.inFlight} in flight)` });

    expect(t.counts()).toEqual({ success: 2, failure: 0, heartbeat: 0 });
    expect(t.of('success').map((c) => c.args[0])).toEqual(['{"a":1}', '{"b":2}']);
    const closed = await Promise.all([a, b].map(async ({ jobId }) => (await t.record(jobId)).closed));
    expect({ closed, pending: await t.pendingCount() }).toEqual({ closed: ['relayed', 'relayed'], pending: 0 });
    // Once it has ended, the job is accepted again (and found closed).
    await t.relayed(reqA);
    expect(t.counts().success).toBe(2);
  });

  it("sends the completed event's value when it joins a heartbeat's find of a job already deleted (removeOnComplete), not Bridge.JobMissing", async () => {
    const t = await setup({ concurrency: 1 });
    const [a, b] = [await t.task(TIMES), await t.task(TIMES)];
    // b's job completed and was deleted with it; its event is still unread when a heartbeat finds it gone.
    await t.redis.del(t.records.keys.job(QUEUE, b.jobId));
    const answer = deferred<CallbackResult>();
    t.scripted.success.push(answer.promise);
    expect(t.service.relay(t.request(a.jobId, 'completed', { returnvalue: '{"a":1}' }))).toBe(true);
    await waitFor(() => t.of('success').length === 1, { message: `the send of a to start (saw ${t.of('success').length})` });
    const found = t.request(b.jobId, 'found');
    expect(t.service.relay(found)).toBe(true);
    const entry = await t.pendingEntry(b.jobId);
    expect(t.service.relay(t.request(b.jobId, 'completed', { returnvalue: '{"b":2}', entryIds: [entry] }))).toBe(true);
    answer.resolve(OK);
    await waitFor(() => t.service.inFlight === 0, { message: `both relays to end (saw ${t.service.inFlight} in flight)` });

    expect({ counts: t.counts(), outputs: t.of('success').map((c) => c.args[0]) }).toEqual({
      counts: { success: 2, failure: 0, heartbeat: 0 },
      outputs: ['{"a":1}', '{"b":2}'],
    });
    expect({ closed: (await t.record(b.jobId)).closed, pending: await t.pendingCount() }).toEqual({ closed: 'relayed', pending: 0 });
  });

  it('runs at most RELAY_CONCURRENCY relays at once; the rest wait unclaimed and start as slots free', async () => {
    const t = await setup({ concurrency: 2 });
    const jobs: { jobId: string }[] = [];
    for (let i = 0; i < 5; i++) jobs.push(await t.task(TIMES));
    const answers = jobs.map(() => deferred<CallbackResult>());
    answers.forEach((a) => t.scripted.success.push(a.promise));
    const accepted = jobs.map(({ jobId }) => t.service.relay(t.request(jobId, 'completed', { returnvalue: '{}' })));
    expect({ accepted, inFlight: t.service.inFlight }).toEqual({ accepted: [true, true, true, true, true], inFlight: 5 });
    await waitFor(() => t.of('success').length === 2, { message: `2 sends to start (saw ${t.of('success').length})` });
    // The three beyond the limit have not even claimed their tasks.
    const attempts = async () => Promise.all(jobs.map(async ({ jobId }) => (await t.record(jobId)).attempts ?? '0'));
    expect({ attempts: await attempts(), isRunning: jobs.map(({ jobId }) => t.service.isRunning(jobId)) }).toEqual({
      attempts: ['1', '1', '0', '0', '0'],
      isRunning: [true, true, true, true, true],
    });

    for (let released = 1; released <= jobs.length; released++) {
      answers[released - 1].resolve(OK);
      const started = Math.min(jobs.length, released + 2);
      await waitFor(() => t.of('success').length === started, {
        message: `${started} sends after ${released} answered (saw ${t.of('success').length})`,
      });
      expect(t.concurrency().now).toBeLessThanOrEqual(2);
    }
    await waitFor(() => t.service.inFlight === 0, { message: `no relay in flight (saw ${t.service.inFlight})` });

    expect({ sends: t.of('success').length, most: t.concurrency().most, attempts: await attempts() }).toEqual({
      sends: 5,
      most: 2,
      attempts: ['1', '1', '1', '1', '1'],
    });
    const closed = await Promise.all(jobs.map(async ({ jobId }) => (await t.record(jobId)).closed));
    expect(closed).toEqual(Array(5).fill('relayed'));
  });

  it('holds room() while RELAY_CONCURRENCY relays run, and frees it when one ends', async () => {
    const t = await setup({ concurrency: 2 });
    await within(t.service.room(), 1_000, 'room() with nothing running');
    const answers = [deferred<CallbackResult>(), deferred<CallbackResult>()];
    const jobs = [await t.task(TIMES), await t.task(TIMES)];
    answers.forEach((a) => t.scripted.success.push(a.promise));
    for (const { jobId } of jobs) expect(t.service.relay(t.request(jobId, 'completed', { returnvalue: '{}' }))).toBe(true);
    let roomy = false;
    const room = t.service.room().then(() => (roomy = true));
    await waitFor(() => t.of('success').length === 2, { message: `both sends to start (saw ${t.of('success').length})` });
    expect({ roomy, inFlight: t.service.inFlight }).toEqual({ roomy: false, inFlight: 2 });

    answers[0].resolve(OK);
    await within(room, 5_000, 'room() after one relay ended');
    expect({ roomy, inFlight: t.service.inFlight }).toEqual({ roomy: true, inFlight: 1 });
    answers[1].resolve(OK);
    await waitFor(() => t.service.inFlight === 0, { message: `no relay in flight (saw ${t.service.inFlight})` });
  });
  it('holds room() while running plus queued relays reach RELAY_CONCURRENCY, not only running ones', async () => {
    const t = await setup({ concurrency: 2 });
    const jobs = [await t.task(TIMES), await t.task(TIMES), await t.task(TIMES)];
    const answers = jobs.map(() => deferred<CallbackResult>());
    answers.forEach((a) => t.scripted.success.push(a.promise));
    for (const { jobId } of jobs) expect(t.service.relay(t.request(jobId, 'completed', { returnvalue: '{}' }))).toBe(true);
    let roomy = false;
    const room = t.service.room().then(() => (roomy = true));
    await waitFor(() => t.of('success').length === 2, { message: `2 sends to start (saw ${t.of('success').length})` });
    expect({ roomy, inFlight: t.service.inFlight }).toEqual({ roomy: false, inFlight: 3 });

    // One ends, the queued one takes its slot: 2 running, none queued, still no room.
    answers[0].resolve(OK);
    await waitFor(() => t.of('success').length === 3, { message: `the queued send to start (saw ${t.of('success').length})` });
    expect({ roomy, inFlight: t.service.inFlight }).toEqual({ roomy: false, inFlight: 2 });

    answers[1].resolve(OK);
    await within(room, 5_000, 'room() after a second relay ended');
    expect({ roomy, inFlight: t.service.inFlight }).toEqual({ roomy: true, inFlight: 1 });
    answers[2].resolve(OK);
    await waitFor(() => t.service.inFlight === 0, { message: `no relay in flight (saw ${t.service.inFlight})` });
  });

  it('turns requests down only while shutting down, dropping queued ones with their entries left pending', async () => {
    const t = await setup({ concurrency: 1 });
    const [a, b, c] = [await t.task(TIMES), await t.task(TIMES), await t.task(TIMES)];
    const [aEntry, bEntry, cEntry] = [await t.pendingEntry(a.jobId), await t.pendingEntry(b.jobId), await t.pendingEntry(c.jobId)];
    const answer = deferred<CallbackResult>();
    t.scripted.success.push(answer.promise);
    expect(t.service.relay(t.request(a.jobId, 'completed', { returnvalue: '{}', entryIds: [aEntry] }))).toBe(true);
    await waitFor(() => t.of('success').length === 1, { message: `the send of a to start (saw ${t.of('success').length})` });
    expect(t.service.relay(t.request(b.jobId, 'completed', { returnvalue: '{}', entryIds: [bEntry] }))).toBe(true);
    expect(t.service.isRunning(b.jobId)).toBe(true);

    const stopped = t.service.onModuleDestroy();
    const turnedDown = [
      t.service.relay(t.request(c.jobId, 'completed', { returnvalue: '{}', entryIds: [cEntry] })),
      t.service.relay(t.request(a.jobId, 'removed', { entryIds: ['1-1'] })),
    ];
    expect({ turnedDown, a: t.service.isRunning(a.jobId), b: t.service.isRunning(b.jobId), inFlight: t.service.inFlight }).toEqual({
      turnedDown: [false, false],
      a: true,
      b: false,
      inFlight: 1,
    });
    answer.resolve(OK);
    await within(stopped, 5_000, 'shutdown once the send in flight ended');

    expect(t.counts()).toEqual({ success: 1, failure: 0, heartbeat: 0 });
    const [ra, rb, rc] = await Promise.all([a, b, c].map(({ jobId }) => t.record(jobId)));
    expect({ a: ra.closed, b: [rb.closed, rb.attempts], c: [rc.closed, rc.attempts], pending: await t.pendingIds() }).toEqual({
      a: 'relayed',
      b: [undefined, undefined],
      c: [undefined, undefined],
      pending: [bEntry, cEntry].sort(),
    });
  });

  describe('the close', () => {
    it('leaves the task scheduled, its entry pending and nothing counted when another replica holds the claim by then (-1)', async () => {
      const t = await setup();
      const { jobId } = await t.task(TIMES);
      const entry = await t.pendingEntry(jobId);
      const answer = deferred<CallbackResult>();
      t.scripted.success.push(answer.promise);
      expect(t.service.relay(t.request(jobId, 'completed', { returnvalue: '{}', entryIds: [entry] }))).toBe(true);
      await waitFor(() => t.of('success').length === 1, { message: `the send to start (saw ${t.of('success').length})` });
      await t.lapseLease(jobId);
      expect((await t.records.claim(QUEUE, jobId, 'other-replica', RELAY_LEASE_MS, undefined, [])).state).toBe('claimed');
      answer.resolve(OK);
      await waitFor(() => !t.service.isRunning(jobId), { message: 'the relay to end' });

      const held = await t.record(jobId);
      expect({
        owner: held.owner,
        closed: held.closed,
        attempts: held.attempts,
        pending: await t.pendingIds(),
        scheduled: await t.scheduled(jobId),
        unscheduledHere: t.unscheduledHere(),
        relays: t.relays,
        observed: t.observed,
      }).toEqual({
        owner: 'other-replica',
        closed: undefined,
        attempts: '2',
        pending: [entry],
        scheduled: { schedule: true, outstanding: true },
        unscheduledHere: [],
        relays: [],
        observed: [],
      });
    });

    it('unschedules the task and acknowledges its entry, counting nothing, when it finds the task closed meanwhile (0)', async () => {
      const t = await setup();
      const { jobId } = await t.task(TIMES);
      const entry = await t.pendingEntry(jobId);
      const answer = deferred<CallbackResult>();
      t.scripted.success.push(answer.promise);
      expect(t.service.relay(t.request(jobId, 'completed', { returnvalue: '{}', entryIds: [entry] }))).toBe(true);
      await waitFor(() => t.of('success').length === 1, { message: `the send to start (saw ${t.of('success').length})` });
      // The lease lapsed, so a heartbeat's cancel could close the task (cancel leaves the schedule to its caller).
      await t.lapseLease(jobId);
      expect(await t.records.cancel(jobId, 'TaskTimedOut')).toBe('cancelled');
      answer.resolve(OK);
      await waitFor(() => !t.service.isRunning(jobId), { message: 'the relay to end' });

      const closed = await t.record(jobId);
      expect({ closed: [closed.closed, closed.reason], ...(await t.afterClose(jobId)), observed: t.observed }).toEqual({
        closed: ['cancelled', 'TaskTimedOut'],
        ...closedEverywhere(jobId, []),
        observed: [],
      });
    });
  });

  describe('the job end a first claim kept (its replica was killed before the close)', () => {
    it.each([
      ['found', 'completed', '{"kept":true}', 'success', ['{"kept":true}']],
      ['removed', 'completed', '{"kept":true}', 'success', ['{"kept":true}']],
      ['found', 'failed', 'kept reason', 'failure', ['Error', 'kept reason']],
    ] as const)(
      'is what a later %s request sends for a %s job, though the job is gone',
      async (laterKind, heardKind, value, method, args) => {
        const t = await setup();
        const { token, jobId } = await t.task(TIMES);
        await t.claimedByDeadReplica(jobId, { kind: heardKind, value });
        // The job went after the claim (removeOnComplete, a clean-up): only the record knows its end.
        await t.redis.del(t.records.keys.job(QUEUE, jobId));
        await t.relayed(t.request(jobId, laterKind));

        // Claim 2 probes first (the killed claim may have sent), then sends the kept end once.
        expect(t.calls.map((c) => c.method)).toEqual(['heartbeat', method]);
        const [sent] = t.of(method);
        expect([sent.token === token, ...sent.args.slice(0, args.length)]).toEqual([true, ...args]);
        const closed = await t.record(jobId);
        expect({ closed: closed.closed, attempts: closed.attempts, end: closed.end, value: closed.value }).toEqual({
          closed: 'relayed',
          attempts: '2',
          end: undefined,
          value: undefined,
        });
        expect(t.relays).toEqual([{ binding: BINDING, outcome: method }]);
      },
    );

    it('is kept by the first claim that knows it while its send runs, and dropped by the close', async () => {
      const t = await setup();
      const { jobId } = await t.task(TIMES);
      const answer = deferred<CallbackResult>();
      t.scripted.success.push(answer.promise);
      expect(t.service.relay(t.request(jobId, 'completed', { returnvalue: '{"n":7}' }))).toBe(true);
      await waitFor(() => t.of('success').length === 1, { message: `the send to start (saw ${t.of('success').length})` });
      const during = await t.record(jobId);
      answer.resolve(OK);
      await waitFor(() => !t.service.isRunning(jobId), { message: 'the relay to end' });
      const after = await t.record(jobId);

      expect({ during: [during.end, during.value], after: [after.closed, after.end, after.value] }).toEqual({
        during: ['completed', '{"n":7}'],
        after: ['relayed', undefined, undefined],
      });
    });
  });
});
