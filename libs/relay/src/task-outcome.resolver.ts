import { Inject, Injectable } from '@nestjs/common';
import { BINDING_QUEUES, RelayJobData } from '@bridge/queue';
import { Job, Queue } from 'bullmq';
import { bridgeFailure, failureOutcome, successOutcome, TaskOutcome } from './outcome';

/** The consumer job's outcome plus its timings (ms since epoch) for metrics. */
export interface ResolvedOutcome {
  outcome: TaskOutcome;
  child?: { timestamp: number; processedOn?: number; finishedOn?: number };
}

/**
 * Reads what became of a relay job's child: its return value (from the parent's processed
 * values) or its final failure (ignored dependency failure + the child's stack traces, which
 * carry the error name: docs/design.md section 2).
 */
@Injectable()
export class TaskOutcomeResolver {
  constructor(@Inject(BINDING_QUEUES) private readonly queues: Map<string, Queue>) {}

  async resolve(relayJob: Job<RelayJobData>): Promise<ResolvedOutcome> {
    const { queue: queueName } = relayJob.data;
    const queue = this.queues.get(queueName);
    const [values, failures, child] = await Promise.all([
      relayJob.getChildrenValues(),
      relayJob.getIgnoredChildrenFailures(),
      queue ? Job.fromId(queue, relayJob.id as string) : Promise.resolve(undefined),
    ]);
    const timings = child ? { timestamp: child.timestamp, processedOn: child.processedOn, finishedOn: child.finishedOn } : undefined;
    const valueKeys = Object.keys(values);
    if (valueKeys.length > 0) {
      return { outcome: successOutcome(values[valueKeys[0]]), child: timings };
    }
    const failureKeys = Object.keys(failures);
    if (failureKeys.length > 0) {
      const reason = child?.failedReason ?? failures[failureKeys[0]];
      return { outcome: failureOutcome(reason, child?.stacktrace), child: timings };
    }
    return {
      outcome: bridgeFailure(
        'JobMissing',
        `The job for this task on queue "${queueName}" was removed before it finished, so it has no result`,
      ),
    };
  }
}
