import { Inject, Injectable, Logger } from '@nestjs/common';
import { BINDING_QUEUES, RelayJobData } from '@bridge/queue';
import { tokenRef } from '@bridge/sfn';
import { Job, Queue } from 'bullmq';
import { HeartbeatSchedule } from './heartbeat-schedule.service';

/** Child states in which the consumer has not started the job: it can simply be removed. */
const NOT_STARTED = new Set(['waiting', 'delayed', 'prioritized', 'waiting-children']);

/**
 * Ends the bridge's part in a task whose execution is gone (stopped, timed out): the relay job is
 * marked cancelled (so nothing is relayed for it later), a job that waits is removed (its relay job
 * then closes as `cancelled`), an active job is flagged under `<prefix>:sfn-bridge:cancelled:<id>`
 * for the consumer to check, and its heartbeats stop.
 */
@Injectable()
export class TaskCanceller {
  private readonly logger = new Logger(TaskCanceller.name);

  constructor(
    @Inject(BINDING_QUEUES) private readonly queues: Map<string, Queue>,
    private readonly schedule: HeartbeatSchedule,
  ) {}

  async cancel(relayJob: Job<RelayJobData>, reason: string): Promise<'removed' | 'flagged' | 'finished'> {
    const jobId = relayJob.id as string;
    const { binding, queue, taskToken } = relayJob.data;
    await this.schedule.remove(jobId, binding);
    await this.schedule.markCancelled(jobId, reason);
    try {
      await relayJob.updateData({ ...relayJob.data, cancelled: reason });
    } catch {
      // The relay job finished meanwhile: nothing left to cancel on its side.
    }
    const child = await Job.fromId(this.queues.get(queue)!, jobId);
    let outcome: 'removed' | 'flagged' | 'finished' = 'finished';
    if (child) {
      const state = await child.getState();
      if (NOT_STARTED.has(state)) {
        try {
          await child.remove();
          outcome = 'removed';
        } catch {
          outcome = 'flagged'; // picked up by a consumer in the meantime
        }
      } else if (state === 'active') {
        outcome = 'flagged';
      }
    }
    this.logger.warn(
      `Task ${tokenRef(taskToken)} (${binding}) cancelled: Step Functions answered ${reason}; ` +
        (outcome === 'removed'
          ? 'its waiting job was removed'
          : outcome === 'flagged'
            ? 'its active job was flagged'
            : 'its job had already finished'),
    );
    return outcome;
  }
}
