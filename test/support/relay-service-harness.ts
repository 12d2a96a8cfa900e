/**
 * What the RelayService specs share: RelayService against real Redis (TaskRecords' scripts, the
 * real HeartbeatSchedule's keys) with Step Functions and metrics faked, and a task written the way
 * the producer writes it. Each spec calls closeRelaySetups after each test.
 */
import { BridgeConfig } from '@bridge/config';
import { LimitKeys } from '@bridge/common';
import { HeartbeatSchedule } from '@bridge/heartbeat';
import { BridgeMetrics } from '@bridge/metrics';
import { JobEndHeard, jobIdForToken, RELAY_GROUP, TaskRecords, tombstoneMs } from '@bridge/queue';
import { CallbackResult, SfnErrorKind, TaskCallbacks } from '@bridge/sfn';
import IORedis from 'ioredis';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from './redis';
import { waitFor } from './wait-for';
import { JobEndKind, RelayRequest, RelayService } from '@bridge/relay';

export const QUEUE = 'orders';
export const BINDING = 'order-activity';
export const RETRY_FOR_MS = 60_000;
export const OK: CallbackResult = { ok: true };
export const failure = (kind: SfnErrorKind, name: string): CallbackResult => ({
  ok: false,
  kind,
  name,
  error: new Error(`${name} (fake)`),
});
export const gone = (name = 'TaskTimedOut') => failure(SfnErrorKind.TaskGone, name);
export const throttled = () => failure(SfnErrorKind.Throttled, 'ThrottlingException');

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
export function fakeCallbacks() {
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
export function fakeMetrics() {
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
export function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const open: (() => Promise<void>)[] = [];
/** Closes every setup() of the test (services, connections, keys): each spec's afterEach. */
export async function closeRelaySetups(): Promise<void> {
  for (const close of open.splice(0).reverse()) await close();
}

/** What a close that took the task out everywhere leaves (afterClose), with these relay metrics. */
export function closedEverywhere(jobId: string, relays: { binding: string; outcome: string }[]) {
  return { pending: 0, scheduled: { schedule: false, outstanding: false }, unscheduledHere: [jobId], relays };
}

export async function setup(relay: Partial<BridgeConfig['relay']> = {}) {
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

export const TIMES = {
  timestamp: String(Date.now() - 4_000),
  processedOn: String(Date.now() - 3_000),
  finishedOn: String(Date.now() - 1_000),
};
