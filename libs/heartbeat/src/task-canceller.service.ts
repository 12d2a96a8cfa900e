import { Inject, Injectable, Logger } from '@nestjs/common';
import { BRIDGE_CONFIG, BridgeConfig } from '@bridge/config';
import { BridgeMetrics } from '@bridge/metrics';
import { BINDING_QUEUES, RecordClient, REDIS_CONNECTION, TaskRecord, TaskRecords, tombstoneMs } from '@bridge/queue';
import { tokenRef } from '@bridge/sfn';
import { Job, Queue } from 'bullmq';
import { HeartbeatSchedule } from './heartbeat-schedule.service';

/** Job states in which the consumer has not started the job: it can simply be removed. */
const NOT_STARTED = new Set(['waiting', 'delayed', 'prioritized', 'waiting-children']);

export type CancelOutcome = 'removed' | 'flagged' | 'finished';

/**
 * Ends the bridge's part in a task whose execution is gone (stopped, timed out): its record is
 * closed as cancelled (so nothing is relayed for it later), a job that waits is removed, an active
 * job is flagged under `<prefix>:sfn-bridge:cancelled:<id>` for the consumer to check, and its
 * heartbeats stop. A task that closed meanwhile, or whose relay holds a lease, is not cancelled:
 * "task gone" was then the relay's own result landing (or its probe will see the task gone); the
 * leased one keeps its schedule entry until its relay closes it.
 */
@Injectable()
export class TaskCanceller {
  private readonly logger = new Logger(TaskCanceller.name);
  private readonly records: TaskRecords;

  constructor(
    @Inject(BRIDGE_CONFIG) config: BridgeConfig,
    @Inject(REDIS_CONNECTION) connection: RecordClient,
    @Inject(BINDING_QUEUES) private readonly queues: Map<string, Queue>,
    private readonly schedule: HeartbeatSchedule,
    private readonly metrics: BridgeMetrics,
  ) {
    this.records = new TaskRecords(connection, config.redis.prefix, tombstoneMs(config.enqueue.retryForMs));
  }

  /** Cancels the task of `jobId`; undefined when it was not (closed or being relayed). */
  async cancel(jobId: string, task: TaskRecord, reason: string): Promise<CancelOutcome | undefined> {
    const { binding, queue, taskToken } = task;
    const verdict = await this.records.cancel(jobId, reason);
    // A relay holding a lease ends the task itself; its entry stays until then, so a relay whose
    // replica dies (and whose lease lapses) is cancelled by a later heartbeat instead of left open.
    if (verdict === 'relaying') return undefined;
    await this.schedule.remove(jobId, binding);
    if (verdict !== 'cancelled') return undefined;
    this.metrics.relays.inc({ binding, outcome: 'cancelled' });
    await this.schedule.markCancelled(jobId, reason);
    const bindingQueue = this.queues.get(queue);
    const job = bindingQueue ? await Job.fromId(bindingQueue, jobId) : undefined;
    let outcome: CancelOutcome = 'finished';
    if (job) {
      const state = await job.getState();
      if (NOT_STARTED.has(state)) {
        try {
          await job.remove();
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
