import { Inject, Injectable } from '@nestjs/common';
import { BridgeMetrics } from '@bridge/metrics';
import { BINDING_QUEUES, RedisStatus } from '@bridge/queue';
import { delay } from '@bridge/sfn';
import { Queue } from 'bullmq';
import { BindingState } from './binding-state';

/** How stale a queue count may be before a poll re-reads it. */
const COUNT_TTL_MS = 250;
/** How often a loop that has no room re-checks. */
const RECHECK_MS = 200;

/** Job states that count as "taken but not finished" for backpressure. */
const PENDING_STATES = ['waiting', 'active', 'delayed', 'prioritized'] as const;

/**
 * Lets a poll start only when Redis is ready and the binding has room: jobs waiting or active on
 * its queue + tasks enqueued since that count + polls already parked < `maxPending`. Tasks beyond
 * that stay in Step Functions, where no clock runs for them (docs/design.md section 1). Counting the
 * queue itself (not a local counter) keeps replicas coherent; a queue shared by several bindings
 * (or with other producers) is counted whole, which errs on the side of waiting.
 */
@Injectable()
export class CapacityGate {
  private readonly refreshing = new Map<BindingState, Promise<void>>();

  constructor(
    @Inject(BINDING_QUEUES) private readonly queues: Map<string, Queue>,
    private readonly redis: RedisStatus,
    private readonly metrics: BridgeMetrics,
  ) {}

  redisReady(): boolean {
    return this.redis.up;
  }

  /**
   * Resolves true when a poll may start, with its slot reserved (the caller must end it with
   * `state.capacity.pollEnded`), false when `signal` aborted first.
   */
  async waitForRoom(state: BindingState, signal: AbortSignal): Promise<boolean> {
    while (!signal.aborted) {
      const now = Date.now();
      if (now < state.pausedUntil) {
        await delay(state.pausedUntil - now, signal);
        continue;
      }
      if (this.redisReady()) {
        if (now - state.capacity.countedAt > COUNT_TTL_MS) await this.refresh(state);
        // Checks and takes the slot in one step: loops released by the same count cannot both take the last one.
        if (state.capacity.tryReservePoll()) return true;
      }
      await delay(RECHECK_MS, signal);
    }
    return false;
  }

  private refresh(state: BindingState): Promise<void> {
    let pending = this.refreshing.get(state);
    if (!pending) {
      pending = this.count(state).finally(() => this.refreshing.delete(state));
      this.refreshing.set(state, pending);
    }
    return pending;
  }

  private async count(state: BindingState): Promise<void> {
    const queue = this.queues.get(state.config.queue);
    if (!queue) throw new Error(`No queue registered for binding ${state.name}`);
    const started = state.capacity.countStarted();
    try {
      const counted = await queue.getJobCountByTypes(...PENDING_STATES);
      state.capacity.countRead(counted, started, Date.now());
      this.metrics.outstandingTasks.set({ binding: state.name }, counted);
    } catch {
      // Redis went away mid-count: the loop sees `redisReady()` false and waits.
      state.capacity.countFailed();
    }
  }
}
