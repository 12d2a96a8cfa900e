import { RelayResult, TaskField, TaskKeys, TaskRecord } from './task-record';
import { CANCEL_TASK_SCRIPT, CLAIM_RELAY_SCRIPT, CLOSE_RELAY_SCRIPT, READ_TASK_SCRIPT, WRITE_RECORD_SCRIPT } from './task-record.lua';

/** What the record scripts need of a connection (an ioredis client, plain or Cluster). */
export interface RecordClient {
  defineCommand(name: string, definition: { lua: string; numberOfKeys: number }): void;
}

/** How a task's job ended, as a relay heard it (an event) or kept it (the record). */
export interface JobEndHeard {
  kind: 'completed' | 'failed' | 'removed';
  /** The return value (JSON) of a completed job, the failed reason of a failed one; '' for removed. */
  value: string;
}

/** A relay claim: the task as the record has it, how many claims it has had, and the job fields asked for. */
export interface ClaimedTask extends TaskRecord {
  attempts: number;
  /** How the job ended as an earlier claim heard it, when this claim did not know or heard only `removed`. */
  kept?: JobEndHeard;
  /** The job's fields asked for, in order (undefined for a field the job lacks, or a job that is gone). */
  job: (string | undefined)[];
}

export type ClaimResult =
  { state: 'claimed'; task: ClaimedTask } | { state: 'closed'; status: string } | { state: 'missing' } | { state: 'busy' };

/** A task as a heartbeat reads it. */
export type TaskState =
  | { state: 'missing' }
  | { state: 'closed'; status: string; binding: string }
  | {
      state: 'open';
      task: TaskRecord;
      leaseUntil: number;
      jobFinishedOn?: number;
      /** Redis time (ms) a heartbeat first found the job gone; undefined while it exists. */
      jobGoneSince?: number;
      redisNow: number;
    };

type Script = (...args: (string | number)[]) => Promise<unknown>;

const COMMANDS = {
  sfnBridgeClaimRelay: { lua: CLAIM_RELAY_SCRIPT, numberOfKeys: 2 },
  sfnBridgeCloseRelay: { lua: CLOSE_RELAY_SCRIPT, numberOfKeys: 4 },
  sfnBridgeCancelTask: { lua: CANCEL_TASK_SCRIPT, numberOfKeys: 1 },
  sfnBridgeReadTask: { lua: READ_TASK_SCRIPT, numberOfKeys: 1 },
  sfnBridgeWriteRecord: { lua: WRITE_RECORD_SCRIPT, numberOfKeys: 2 },
} as const;

/**
 * The one owner of task records: every read and write of `<prefix>:sfn-bridge:task:<id>` goes
 * through here (the producer writes, heartbeats read and cancel, the relay claims and closes). Not
 * a Nest provider: each user holds one on the connection it writes with.
 */
export class TaskRecords {
  readonly keys: TaskKeys;

  constructor(
    private readonly redis: RecordClient,
    prefix: string,
    /** How long a closed record stays (it answers a late write of the same task: "closed"). */
    private readonly tombstoneMs: number,
  ) {
    this.keys = new TaskKeys(prefix);
    for (const [name, definition] of Object.entries(COMMANDS)) redis.defineCommand(name, definition);
  }

  /**
   * The producer's write (one script: the record, only if the task's job is there), issued right
   * after the job in the same socket write. False: no job, nothing written.
   */
  async write(jobId: string, task: TaskRecord): Promise<boolean> {
    const fields: (string | number)[] = [
      TaskField.Token,
      task.taskToken,
      TaskField.Binding,
      task.binding,
      TaskField.Queue,
      task.queue,
      TaskField.ReceivedAt,
      task.receivedAt,
    ];
    if (task.trace) fields.push(TaskField.Trace, task.trace);
    return Number(await this.script('sfnBridgeWriteRecord')(this.keys.record(jobId), this.keys.job(task.queue, jobId), ...fields)) === 1;
  }

  /**
   * Claims the relay of `jobId` (on `queue`) for `owner` for `leaseMs`, keeping `heard` (how the job
   * ended, if the caller knows) in the record for later claims, and returning the job's `jobFields`.
   */
  async claim(
    queue: string,
    jobId: string,
    owner: string,
    leaseMs: number,
    heard: JobEndHeard | undefined,
    jobFields: readonly string[],
  ): Promise<ClaimResult> {
    const reply = (await this.script('sfnBridgeClaimRelay')(
      this.keys.record(jobId),
      this.keys.job(queue, jobId),
      leaseMs,
      owner,
      heard?.kind ?? '',
      heard?.value ?? '',
      ...jobFields,
    )) as (string | number | null)[];
    const [state] = reply;
    if (state === 'closed') return { state, status: String(reply[1]) };
    if (state === 'busy') return { state };
    if (state !== 'claimed') return { state: 'missing' };
    const [, taskToken, binding, recordQueue, receivedAt, trace, attempts, keptKind, keptValue] = reply.slice(0, 9).map(String);
    const job = reply.slice(9).map((v) => (v === null ? undefined : String(v)));
    return {
      state,
      task: {
        taskToken,
        binding,
        queue: recordQueue,
        receivedAt: Number(receivedAt),
        ...(trace ? { trace } : {}),
        attempts: Number(attempts),
        ...(keptKind ? { kept: { kind: keptKind as JobEndHeard['kind'], value: keptValue } } : {}),
        job,
      },
    };
  }

  /**
   * Closes the relay `owner` claimed as `result` (status; reason: the relayed outcome, `success` or
   * the error name, or why it ended); in the same step the task leaves `unscheduleFrom` (the
   * heartbeat schedule and its binding's outstanding set) and `entryIds` of `queue`'s event stream
   * are acknowledged in the group. 1 closed, 0 closed before, -1 another replica holds it now
   * (nothing touched).
   */
  async close(
    queue: string,
    jobId: string,
    owner: string,
    result: RelayResult,
    unscheduleFrom: { schedule: string; outstanding: string },
    group: string,
    entryIds: readonly string[],
  ): Promise<number> {
    const reason = result.status === 'relayed' ? (result.outcome === 'success' ? 'success' : (result.error ?? 'failure')) : result.reason;
    return Number(
      await this.script('sfnBridgeCloseRelay')(
        this.keys.record(jobId),
        this.keys.events(queue),
        unscheduleFrom.schedule,
        unscheduleFrom.outstanding,
        owner,
        result.status,
        reason,
        this.tombstoneMs,
        jobId,
        group,
        ...entryIds,
      ),
    );
  }

  /** Closes a task nobody relays as cancelled (see CANCEL_TASK_SCRIPT). */
  async cancel(jobId: string, reason: string): Promise<'cancelled' | 'closed' | 'relaying'> {
    return (await this.script('sfnBridgeCancelTask')(this.keys.record(jobId), reason, this.tombstoneMs)) as
      'cancelled' | 'closed' | 'relaying';
  }

  /** The task and its job's progress, as a heartbeat needs them. */
  async read(jobId: string): Promise<TaskState> {
    const reply = (await this.script('sfnBridgeReadTask')(this.keys.record(jobId), this.keys.prefix, jobId)) as (string | number)[];
    if (reply.length === 0) return { state: 'missing' };
    if (reply[0] === 'closed') return { state: 'closed', status: String(reply[1]), binding: String(reply[2]) };
    const [, taskToken, binding, queue, receivedAt, trace, lease, finishedOn, gone, now] = reply.map(String);
    return {
      state: 'open',
      task: { taskToken, binding, queue, receivedAt: Number(receivedAt), ...(trace ? { trace } : {}) },
      leaseUntil: Number(lease),
      ...(finishedOn ? { jobFinishedOn: Number(finishedOn) } : {}),
      ...(gone !== '0' ? { jobGoneSince: Number(gone) } : {}),
      redisNow: Number(now),
    };
  }

  private script(name: keyof typeof COMMANDS): Script {
    return (this.redis as unknown as Record<string, Script>)[name].bind(this.redis);
  }
}

/**
 * How long a closed record stays: past every retry of its write (a try that outlived its timeout
 * must find it closed, not recreate it), and at least five minutes for operators and the chaos read-out.
 */
export function tombstoneMs(enqueueRetryForMs: number): number {
  return Math.max(300_000, enqueueRetryForMs + 60_000);
}
