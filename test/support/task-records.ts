import { RELAY_GROUP, TaskField, TaskKeys } from '@bridge/queue';
import type IORedis from 'ioredis';
import { waitFor } from './wait-for';

/**
 * Reads the bridge's task records (`<prefix>:sfn-bridge:task:<jobId>`, libs/queue task-record.ts)
 * and its consumer group on a binding queue's event stream, for e2e tests: how a task closed
 * (`closed` / `reason`), which tasks are still open, and whether the relay has read and
 * acknowledged a job's end. Read-only: tests never write what the bridge owns. A record's token is
 * returned to the test only to look for it where it must not be (logs, spans, the board).
 */

/** A task record's fields as stored (HGETALL), with the job id it is keyed by. */
export type TaskRecordFields = Record<string, string> & { jobId: string };

/** How a record closed: `closed` (the RelayStatus) and `reason`. */
export interface ClosedTask {
  status: string;
  reason: string;
}

/** The record of `jobId` (its fields; undefined when there is none). */
export async function readTaskRecord(redis: IORedis, prefix: string, jobId: string): Promise<TaskRecordFields | undefined> {
  const fields = await redis.hgetall(new TaskKeys(prefix).record(jobId));
  return Object.keys(fields).length > 0 ? { ...fields, jobId } : undefined;
}

/** How the record of `jobId` closed; undefined while it is open or missing. */
export async function closedAs(redis: IORedis, prefix: string, jobId: string): Promise<ClosedTask | undefined> {
  const [status, reason] = await redis.hmget(new TaskKeys(prefix).record(jobId), TaskField.Closed, TaskField.Reason);
  return status ? { status, reason: reason ?? '' } : undefined;
}

/** Waits for the record of `jobId` to close, and says how. */
export function waitForClose(redis: IORedis, prefix: string, jobId: string, timeoutMs = 20_000): Promise<ClosedTask> {
  return waitFor(() => closedAs(redis, prefix, jobId), { timeoutMs, message: `the task record of job ${jobId.slice(0, 12)} to close` });
}

/** The token of an open record of `jobId`, once it is there (the record lands right after its job). */
export async function waitForToken(redis: IORedis, prefix: string, jobId: string, timeoutMs = 10_000): Promise<string> {
  return waitFor(async () => (await redis.hget(new TaskKeys(prefix).record(jobId), TaskField.Token)) ?? undefined, {
    timeoutMs,
    message: `the task record of job ${jobId.slice(0, 12)} with its token`,
  });
}

/** Every task record under `prefix` (SCAN MATCH `<prefix>:sfn-bridge:task:*`), by job id. */
export async function listTaskRecords(redis: IORedis, prefix: string): Promise<Map<string, TaskRecordFields>> {
  const keys = new TaskKeys(prefix);
  const start = keys.record('');
  const found = new Set<string>();
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', keys.record('*'), 'COUNT', 1000);
    cursor = next;
    batch.forEach((k) => found.add(k));
  } while (cursor !== '0');
  const records = new Map<string, TaskRecordFields>();
  for (const key of found) {
    const fields = await redis.hgetall(key);
    const jobId = key.slice(start.length);
    if (Object.keys(fields).length > 0) records.set(jobId, { ...fields, jobId });
  }
  return records;
}

/** Records by status: each `closed` value, and `open` for those not closed. */
export function tallyStatuses(records: Iterable<TaskRecordFields>): Record<string, number> {
  const tally: Record<string, number> = {};
  for (const r of records) {
    const status = r[TaskField.Closed] ?? 'open';
    tally[status] = (tally[status] ?? 0) + 1;
  }
  return tally;
}

/** Entries of `queue`'s event stream the bridge's consumer group has been handed and not yet acknowledged. */
export async function pendingEvents(redis: IORedis, prefix: string, queue: string): Promise<number> {
  const [count] = (await redis.xpending(new TaskKeys(prefix).events(queue), RELAY_GROUP)) as [number, ...unknown[]];
  return Number(count);
}

/**
 * Whether the bridge's consumer group has read `queue`'s `event` entry of `jobId` (e.g. `completed`)
 * and acknowledged it: the relay has dealt with that job end (relayed it, or found it needed none).
 */
export async function eventHandled(redis: IORedis, prefix: string, queue: string, jobId: string, event: string): Promise<boolean> {
  const stream = new TaskKeys(prefix).events(queue);
  const entries = (await redis.xrevrange(stream, '+', '-', 'COUNT', 1000)) as [string, string[]][];
  const entry = entries.find(([, fields]) => fields[1] === event && fieldOf(fields, 'jobId') === jobId);
  if (!entry) return false;
  const groups = (await redis.xinfo('GROUPS', stream)) as (string | number)[][];
  const group = groups.find((g) => g[g.indexOf('name') + 1] === RELAY_GROUP);
  if (!group) return false;
  const lastDelivered = String(group[group.indexOf('last-delivered-id') + 1]);
  if (compareStreamIds(lastDelivered, entry[0]) < 0) return false;
  const pending = (await redis.xpending(stream, RELAY_GROUP, entry[0], entry[0], 1)) as unknown[];
  return pending.length === 0;
}

function fieldOf(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

function compareStreamIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt);
  const [bm, bs] = b.split('-').map(BigInt);
  if (am !== bm) return am < bm ? -1 : 1;
  return as === bs ? 0 : as < bs ? -1 : 1;
}
