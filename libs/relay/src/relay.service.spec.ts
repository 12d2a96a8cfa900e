/**
 * RelayService against real Redis: task records written and read by TaskRecords' scripts (claims,
 * leases in Redis time, closes that acknowledge stream entries), with Step Functions, metrics and
 * the heartbeat schedule faked. Shows that each job end is sent once, probed first when an earlier
 * claim may have sent, retried after transient errors, and left alone when closed or held elsewhere.
 */
import { BridgeConfig } from '@bridge/config';
import { HeartbeatSchedule } from '@bridge/heartbeat';
import { BridgeMetrics } from '@bridge/metrics';
import { jobIdForToken, RELAY_GROUP, TaskRecords, tombstoneMs } from '@bridge/queue';
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

/** Step Functions: records every call; answers scripted per method (then `otherwise`, OK by default). */
function fakeCallbacks() {
  const calls: Call[] = [];
  const scripted: Record<Method, (CallbackResult | Promise<CallbackResult>)[]> = { success: [], failure: [], heartbeat: [] };
  const otherwise: Record<Method, CallbackResult> = { success: OK, failure: OK, heartbeat: OK };
  const answer = (method: Method, token: string, args: unknown[]) => {
    calls.push({ method, token, args, at: Date.now() });
    return Promise.resolve(scripted[method].shift() ?? otherwise[method]);
  };
  const callbacks = {
    success: (token: string, output: string, signal?: AbortSignal) => answer('success', token, [output, signal]),
    failure: (token: string, error: string, cause: string, signal?: AbortSignal) => answer('failure', token, [error, cause, signal]),
    heartbeat: (token: string) => answer('heartbeat', token, []),
  };
  const of = (method: Method) => calls.filter((c) => c.method === method);
  const counts = () => ({ success: of('success').length, failure: of('failure').length, heartbeat: of('heartbeat').length });
  return { callbacks: callbacks as unknown as TaskCallbacks, calls, scripted, otherwise, of, counts };
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

async function setup(relay: Partial<BridgeConfig['relay']> = {}) {
  const prefix = uniquePrefix('relay');
  const redis = new IORedis(REDIS_URL, { maxRetriesPerRequest: null });
  const config = {
    relay: { concurrency: 4, attempts: 3, backoffMs: 20, ...relay },
    redis: { prefix },
    enqueue: { retryForMs: RETRY_FOR_MS },
    log: { payloads: false },
  } as unknown as BridgeConfig;
  const sfn = fakeCallbacks();
  const metrics = fakeMetrics();
  const removed: [string, string | undefined][] = [];
  const schedule = {
    remove: async (jobId: string, binding?: string) => void removed.push([jobId, binding]),
  } as unknown as HeartbeatSchedule;
  const service = new RelayService(config, redis, sfn.callbacks, metrics.metrics, schedule);
  const records = new TaskRecords(redis, prefix, tombstoneMs(RETRY_FOR_MS));
  open.push(async () => {
    await service.onModuleDestroy();
    await redis.quit();
    await cleanupPrefix(prefix);
  });

  let tasks = 0;
  /** A task as the producer writes it, and optionally its job hash (`job`: BullMQ's fields). */
  const task = async (job?: Record<string, string>) => {
    const token = `token-${prefix}-${++tasks}`;
    const jobId = jobIdForToken(token);
    await records.write(jobId, { taskToken: token, binding: BINDING, queue: QUEUE, receivedAt: Date.now() - 5_000 });
    if (job) await redis.hset(records.keys.job(QUEUE, jobId), job);
    return { token, jobId };
  };
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
  return {
    prefix,
    redis,
    config,
    service,
    records,
    removed,
    task,
    pendingEntry,
    pendingCount,
    request,
    relayed,
    record,
    ...sfn,
    ...metrics,
  };
}

const TIMES = { timestamp: String(Date.now() - 4_000), processedOn: String(Date.now() - 3_000), finishedOn: String(Date.now() - 1_000) };

describe('RelayService (real Redis)', () => {
  it('sends a first claim at once with the JSON output, no probe, and closes the task as relayed', async () => {
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
    expect({ pending: await t.pendingCount(), removed: t.removed, relays: t.relays }).toEqual({
      pending: 0,
      removed: [[jobId, BINDING]],
      relays: [{ binding: BINDING, outcome: 'success' }],
    });
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
    const { jobId } = await t.task();
    await t.relayed(t.request(jobId, 'removed'));

    expect(t.counts()).toEqual({ success: 0, failure: 1, heartbeat: 0 });
    const [sent] = t.of('failure');
    expect(sent.args[0]).toBe('Bridge.JobMissing');
    expect(String(sent.args[1])).toContain(QUEUE);
    expect((await t.record(jobId)).reason).toBe('Bridge.JobMissing');
  });

  describe('a task claimed before (its earlier relay may have sent)', () => {
    /** A claim by a replica that died holding the task, its lease lapsed since. */
    async function claimedByDeadReplica(t: Awaited<ReturnType<typeof setup>>, jobId: string) {
      const earlier = await t.records.claim(QUEUE, jobId, 'dead-replica', 1, []);
      expect(earlier.state).toBe('claimed');
      await waitFor(
        async () => {
          const state = await t.records.read(jobId);
          return state.state === 'open' && state.leaseUntil < state.redisNow;
        },
        { message: "the dead replica's 1 ms lease to lapse" },
      );
    }

    it('probes first and, finding the task gone, closes it as recovered without sending', async () => {
      const t = await setup();
      const { token, jobId } = await t.task(TIMES);
      await claimedByDeadReplica(t, jobId);
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
      await claimedByDeadReplica(t, jobId);
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
    expect({ pending: await t.pendingCount(), removed: t.removed.length, relays: t.relays }).toEqual({
      pending: 0,
      removed: 1,
      relays: [{ binding: BINDING, outcome: 'expired' }],
    });
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
    expect({ pending: await t.pendingCount(), removed: t.removed, relays: t.relays, errors: t.relayErrors.length }).toEqual({
      pending: 0,
      removed: [[jobId, BINDING]],
      relays: [{ binding: BINDING, outcome: 'abandoned' }],
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
    expect((await t.records.claim(QUEUE, jobId, 'other-replica', RELAY_LEASE_MS, [])).state).toBe('claimed');
    const entry = await t.pendingEntry(jobId);
    await t.relayed(t.request(jobId, 'completed', { returnvalue: '{}', entryIds: [entry] }));

    expect(t.counts()).toEqual({ success: 0, failure: 0, heartbeat: 0 });
    const held = await t.record(jobId);
    expect({ owner: held.owner, closed: held.closed, attempts: held.attempts, pending: await t.pendingCount() }).toEqual({
      owner: 'other-replica',
      closed: undefined,
      attempts: '1',
      pending: 1,
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
    expect({ pending: await t.pendingCount(), removed: t.removed.length }).toEqual({ pending: 0, removed: 0 });
    if (withRecord) expect((await t.record(jobId)).closed).toBe('cancelled');
  });

  it('refuses the same job a second time while its relay runs, and sends once', async () => {
    const t = await setup();
    const { jobId } = await t.task(TIMES);
    const answer = deferred<CallbackResult>();
    t.scripted.success.push(answer.promise);
    const req = t.request(jobId, 'completed', { returnvalue: '{}' });
    expect(t.service.relay(req)).toBe(true);
    await waitFor(() => t.of('success').length === 1, { message: `the send to start (saw ${t.of('success').length})` });
    expect({ again: t.service.relay({ ...req, entryIds: ['1-1'] }), running: t.service.isRunning(jobId) }).toEqual({
      again: false,
      running: true,
    });
    answer.resolve(OK);
    await waitFor(() => !t.service.isRunning(jobId), { message: 'the relay to end' });

    expect(t.counts()).toEqual({ success: 1, failure: 0, heartbeat: 0 });
    expect((await t.record(jobId)).closed).toBe('relayed');
    // Once it has ended, the job is accepted again (and found closed).
    await t.relayed(req);
    expect(t.counts().success).toBe(1);
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
});
