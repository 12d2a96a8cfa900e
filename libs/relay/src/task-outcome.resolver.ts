import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable } from '@nestjs/common';
import { BINDING_QUEUES, BridgeQueue, inOneWrite, RelayJobData } from '@bridge/queue';
import { Job, Queue } from 'bullmq';
import { bridgeFailure, failureOutcome, successOutcome, TaskOutcome } from './outcome';

/** The consumer job's outcome plus its timings (ms since epoch) for metrics. */
export interface ResolvedOutcome {
  outcome: TaskOutcome;
  child?: { timestamp: number; processedOn?: number; finishedOn?: number };
}

/** The child job's fields the relay needs: never `data` (the task input, up to 256 KB) nor `opts`. */
const CHILD_FIELDS = ['timestamp', 'processedOn', 'finishedOn', 'failedReason', 'stacktrace'] as const;

/**
 * Reads what became of a relay job's child: its return value (from the parent's processed
 * values) or its final failure (ignored dependency failure + the child's stack traces, which
 * carry the error name: docs/design.md section 2).
 *
 * One round trip on the normal path, two commands in one socket write: the parent's processed
 * values (HGETALL, as `Job.getChildrenValues` reads them) and five fields of the child's hash
 * (HMGET, where `Job.fromId` would read and parse the whole job, input included); the ignored
 * failures are read only when there is no value. Not an ioredis pipeline: building one copies
 * every script BullMQ defined on the connection (38 µs a task in a profile under load). BullMQ
 * has no call that reads some fields of a job, so this reads its documented key layout
 * (`queue.toKey(id)`) through the backend's raw client (BullMQ's escape hatch for exactly this);
 * parent and child share a hash slot (one prefix, one tag), so both go to one node on a Cluster.
 */
@Injectable()
export class TaskOutcomeResolver {
  constructor(
    @Inject(BINDING_QUEUES) private readonly queues: Map<string, Queue>,
    @InjectQueue(BridgeQueue.Relay) private readonly relayQueue: Queue<RelayJobData>,
  ) {}

  async resolve(relayJob: Job<RelayJobData>): Promise<ResolvedOutcome> {
    const { queue: queueName } = relayJob.data;
    const queue = this.queues.get(queueName);
    const id = relayJob.id as string;
    const client = await this.relayQueue.getBackend().client;
    const [values, fields] = await Promise.all(
      inOneWrite(client, () => [
        client.hgetall(this.relayQueue.toKey(`${id}:processed`)),
        queue ? client.hmget(queue.toKey(id), ...CHILD_FIELDS) : Promise.resolve([]),
      ]),
    );
    const child = childTimings(fields);

    const valueKeys = Object.keys(values);
    if (valueKeys.length > 0) {
      return { outcome: successOutcome(JSON.parse(values[valueKeys[0]])), child };
    }
    const failures = await relayJob.getIgnoredChildrenFailures();
    const failureKeys = Object.keys(failures);
    if (failureKeys.length > 0) {
      const [, , , failedReason, stacktrace] = fields;
      return { outcome: failureOutcome(failedReason ?? failures[failureKeys[0]], parseStacktrace(stacktrace)), child };
    }
    return {
      outcome: bridgeFailure(
        'JobMissing',
        `The job for this task on queue "${queueName}" was removed before it finished, so it has no result`,
      ),
    };
  }
}

function childTimings(fields: (string | null)[]): ResolvedOutcome['child'] {
  const [timestamp, processedOn, finishedOn] = fields;
  if (!timestamp) return undefined; // the child is gone (removed) or its queue is unknown
  return { timestamp: Number(timestamp), processedOn: optionalNumber(processedOn), finishedOn: optionalNumber(finishedOn) };
}

function optionalNumber(value: string | null | undefined): number | undefined {
  return value ? Number(value) : undefined;
}

/** BullMQ stores the stack traces as a JSON array; a missing or unreadable one is none (as Job.fromJSON does). */
function parseStacktrace(raw: string | null | undefined): string[] | undefined {
  if (!raw) return undefined;
  try {
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) ? (parsed as string[]) : undefined;
  } catch {
    return undefined;
  }
}
