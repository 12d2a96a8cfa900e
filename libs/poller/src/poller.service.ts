import { GetActivityTaskCommand, GetActivityTaskCommandOutput, SFNClient } from '@aws-sdk/client-sfn';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { setMaxListeners } from 'node:events';
import { fullJitterDelay, IncidentLog, sleep } from '@bridge/common';
import { BRIDGE_CONFIG, BridgeConfig } from '@bridge/config';
import { BridgeMetrics } from '@bridge/metrics';
import { TaskProducer } from '@bridge/producer';
import { jobIdForToken } from '@bridge/queue';
import { classifySfnError, SFN_POLL_CLIENT, SfnErrorKind, sfnErrorName } from '@bridge/sfn';
import { pollClock, traceReceive } from '@bridge/tracing';
import { BindingState } from './binding-state';
import { CapacityGate } from './capacity-gate';
import { ReplicaLease } from './replica-lease';
import { SlotReservations } from './slot-reservations.service';

const RETRY = { baseMs: 200, capMs: 20_000 };
/** Retry of a binding whose activity is missing or ARN invalid: 1 s, 2 s, 4 s ... up to 30 s. */
const BROKEN_BINDING_RETRY = { firstMs: 1_000, maxMs: 30_000 };
/** At shutdown, enqueue retries stop this long before the drain gives up (to send Bridge.EnqueueFailed). */
const FAIL_BEFORE_DRAIN_ENDS_MS = 2_000;
/** A loop that threw is replaced after this long (if the binding is below its minimum). */
const FAILED_LOOP_RESTART_MS = 1_000;

export interface BindingStatus {
  binding: string;
  activityArn: string;
  healthy: boolean;
  lastError?: string;
  parkedPolls: number;
  activePollers: number;
  /** Step Functions reachability as seen by this binding's polls (ms since epoch). */
  lastResponseAt?: number;
  noAnswerSince?: number;
  noAnswerCount: number;
}

/**
 * Runs each binding's long-poll loops and sizes them (autoscaling between `pollers.min` and
 * `pollers.max`, the model of Temporal's poller behaviour options): a binding starts with `min`
 * loops; a poll that returns a task while its slot could be kept (room under `maxPending`) starts
 * one more loop, up to `max`; a poll that comes back empty stops its loop while more than `min`
 * run, so an idle binding is back at `min` after one poll hold. A loop holds one poll slot reserved
 * in Redis (CapacityGate) from its first poll until it stops, calls GetActivityTask, which it
 * never aborts (an aborted poll can still be handed a task that is then lost), and hands any token
 * to the producer at once. On shutdown no new poll starts and the parked ones are awaited (up to
 * SHUTDOWN_DRAIN_TIMEOUT_MS) and their tasks enqueued.
 */
@Injectable()
export class PollerService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(PollerService.name);
  private readonly states: BindingState[];
  private readonly stop = new AbortController();
  private readonly loops = new Set<Promise<void>>();
  private readonly lease: ReplicaLease;
  private draining?: Promise<void>;
  /** Failed polls per binding, logged as incidents (start, a summary a minute, end). */
  private readonly pollFailures = new Map<BindingState, IncidentLog>();

  constructor(
    @Inject(BRIDGE_CONFIG) private readonly config: BridgeConfig,
    @Inject(SFN_POLL_CLIENT) private readonly client: SFNClient,
    private readonly gate: CapacityGate,
    private readonly producer: TaskProducer,
    private readonly metrics: BridgeMetrics,
    reservations: SlotReservations,
  ) {
    this.states = config.bindings.map((b) => new BindingState(b));
    this.lease = new ReplicaLease(reservations, this.states);
    for (const state of this.states) this.pollFailures.set(state, new IncidentLog(this.logger, `Binding ${state.name}: GetActivityTask`));
    // Every waiting loop listens for the stop signal.
    setMaxListeners(0, this.stop.signal);
  }

  onApplicationBootstrap(): void {
    this.lease.start();
    for (const state of this.states) {
      this.metrics.bindingHealthy.set({ binding: state.name }, 1);
      this.metrics.parkedPolls.set({ binding: state.name }, 0);
      for (let i = 0; i < state.minPollers; i++) this.startLoop(state);
    }
    const total = this.states.reduce((n, s) => n + s.runningPollers, 0);
    this.logger.log(`Polling ${this.states.length} binding(s) with ${total} poller(s) as worker "${this.config.workerName}"`);
  }

  async onModuleDestroy(): Promise<void> {
    await this.drain();
    await this.lease.stop();
    for (const incident of this.pollFailures.values()) incident.dispose();
  }

  /** Stops starting polls and waits for parked ones (their tasks are enqueued); later calls share the first. */
  drain(): Promise<void> {
    this.draining ??= this.drainOnce();
    return this.draining;
  }

  private async drainOnce(): Promise<void> {
    this.stop.abort();
    // A write still retrying then fails its task explicitly, with time left to send that failure.
    this.producer.cutRetries(Date.now() + Math.max(0, this.config.shutdown.drainTimeoutMs - FAIL_BEFORE_DRAIN_ENDS_MS));
    const parked = this.states.reduce((n, s) => n + s.parked, 0);
    this.logger.log(
      parked > 0 ? `Draining ${parked} parked poll(s) before shutdown` : 'Shutting down: no poll parked, none started from now on',
    );
    const all = Promise.all(this.loops);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), this.config.shutdown.drainTimeoutMs)));
    const result = await Promise.race([all.then(() => 'drained' as const), timedOut]);
    clearTimeout(timer);
    if (result === 'timeout') this.logger.warn('Drain timed out; some parked polls were still open');
  }

  status(): BindingStatus[] {
    return this.states.map((s) => ({
      binding: s.name,
      activityArn: s.config.activityArn,
      healthy: s.healthy,
      lastError: s.lastError,
      parkedPolls: s.parked,
      activePollers: s.runningPollers,
      lastResponseAt: s.lastResponseAt,
      noAnswerSince: s.noAnswerSince,
      noAnswerCount: s.noAnswerCount,
    }));
  }

  private startLoop(state: BindingState): void {
    state.runningPollers++;
    this.metrics.pollers.set({ binding: state.name }, state.runningPollers);
    const loop: Promise<void> = this.loop(state)
      .catch((err: Error) => this.replaceFailedLoop(state, err))
      .finally(() => this.loops.delete(loop));
    this.loops.add(loop);
  }

  /**
   * A loop that threw (a bug, or a reply of the wrong shape) has already given back its slot and
   * stopped counting; the process goes on, and a loop below the binding's minimum is replaced
   * after a second, never in a tight loop.
   */
  private async replaceFailedLoop(state: BindingState, err: Error): Promise<void> {
    this.logger.error(`Binding ${state.name}: a poller stopped on an unexpected error: ${err.stack ?? err.message}`);
    await sleep(FAILED_LOOP_RESTART_MS, this.stop.signal);
    if (!this.stop.signal.aborted && state.runningPollers < state.minPollers) this.startLoop(state);
  }

  /**
   * This loop stops (and no longer counts) if it is above a lowered `max`, or above `min` after an
   * empty poll. Decided synchronously, so loops whose polls came back empty together shed only down to `min`.
   */
  private shed(state: BindingState, emptyPoll: boolean): boolean {
    const over = state.runningPollers > state.maxPollers || (emptyPoll && state.runningPollers > state.minPollers);
    if (over) this.stopped(state);
    return over;
  }

  private stopped(state: BindingState): void {
    state.runningPollers--;
    this.metrics.pollers.set({ binding: state.name }, state.runningPollers);
  }

  private async loop(state: BindingState): Promise<void> {
    const signal = this.stop.signal;
    let failures = 0;
    let holdsSlot = false;
    let counted = true;
    try {
      while (!signal.aborted) {
        if (holdsSlot ? !(await this.gate.ready(state, signal)) : !(await this.gate.acquire(state, signal))) break;
        holdsSlot = true;
        state.capacity.pollStarted();
        let out: GetActivityTaskCommandOutput;
        const polledAt = pollClock();
        this.metrics.parkedPolls.inc({ binding: state.name });
        try {
          out = await this.client.send(
            new GetActivityTaskCommand({ activityArn: state.config.activityArn, workerName: this.config.workerName }),
          );
        } catch (err) {
          state.capacity.pollEnded();
          this.metrics.parkedPolls.dec({ binding: state.name });
          state.recordPollOutcome(err);
          failures++;
          await this.onPollError(state, err, failures, signal);
          if (this.shed(state, false)) {
            counted = false;
            break;
          }
          continue;
        }
        state.capacity.pollEnded();
        // A taken token lives only in this process until written: its write starts before anything else.
        const token = out.taskToken;
        const writing = token ? traceReceive(state.config, polledAt, () => this.handOff(state, token, out.input)) : undefined;
        this.metrics.parkedPolls.dec({ binding: state.name });
        failures = 0;
        state.recordPollOutcome();
        this.onPollSuccess(state);
        this.metrics.polls.inc({ binding: state.name, result: writing ? 'task' : 'empty' });
        if (!writing) {
          if (this.shed(state, true)) {
            counted = false;
            break;
          }
          continue; // the same slot polls again: no Redis call for an empty poll
        }
        holdsSlot = await writing;
        // Busy and room left: one more poller, up to max.
        if (holdsSlot && !signal.aborted && state.runningPollers < state.maxPollers) this.startLoop(state);
      }
    } finally {
      if (counted) this.stopped(state);
      if (holdsSlot) await this.gate.release(state);
    }
  }

  /**
   * Hands a token to the producer; the task joins the binding's outstanding set in Redis in the
   * same round trip as its write. Resolves whether the loop's slot is still its own (kept for the
   * next poll when there was room).
   */
  private async handOff(state: BindingState, taskToken: string, input: string | undefined): Promise<boolean> {
    const receivedAt = Date.now();
    const jobId = jobIdForToken(taskToken);
    let taken: Promise<{ kept: boolean; outstanding: number }> | undefined;
    let reply: { kept: boolean; outstanding: number } | undefined;
    const onWrite = () => {
      taken = this.gate.taken(state, jobId, receivedAt);
      taken.then(
        (r) => (reply = r),
        () => undefined,
      );
      return taken;
    };
    const result = await this.producer.enqueue(state.config, { taskToken, input, receivedAt, onWrite });
    await taken?.catch(() => undefined);
    if (result.enqueued) {
      if (!reply) return true; // an earlier try landed, its reservation answer lost: the task stays outstanding
      this.gate.settleTaken(state, reply.kept, reply.outstanding);
      return reply.kept;
    }
    // Failed with Bridge.EnqueueFailed (closed): it leaves the outstanding set if it got there.
    void this.gate.closeUnwritten(state, jobId);
    if (reply) {
      this.gate.settleTaken(state, reply.kept, reply.outstanding);
      return reply.kept;
    }
    // Its "taken" never ran (refused by a connection that is down): the slot is still ours.
    return true;
  }

  private onPollSuccess(state: BindingState): void {
    this.pollFailures.get(state)?.success();
    if (!state.healthy) {
      state.healthy = true;
      state.lastError = undefined;
      this.metrics.bindingHealthy.set({ binding: state.name }, 1);
    }
  }

  private async onPollError(state: BindingState, err: unknown, failures: number, signal: AbortSignal): Promise<void> {
    const kind = classifySfnError(err);
    const name = sfnErrorName(err);
    this.metrics.polls.inc({ binding: state.name, result: 'error' });
    this.metrics.awsErrors.inc({ operation: 'GetActivityTask', error: name });
    state.lastError = name;
    this.pollFailures.get(state)?.failure(`${name}: ${(err as Error).message}; backing off`, name);
    switch (kind) {
      case SfnErrorKind.BindingBroken:
        if (state.healthy) {
          state.healthy = false;
          this.metrics.bindingHealthy.set({ binding: state.name }, 0);
          this.logger.error(`Binding ${state.name} is unhealthy: ${name} for ${state.config.activityArn}`);
        }
        // Quick at first (an activity created just after the bridge started is picked up in
        // seconds), then slow, so a deleted activity costs one call per 30 s per poller.
        state.pausedUntil =
          Date.now() + Math.min(BROKEN_BINDING_RETRY.maxMs, BROKEN_BINDING_RETRY.firstMs * 2 ** Math.min(failures - 1, 10));
        return;
      case SfnErrorKind.WorkerLimit:
        // Too many parked polls on the activity (all workers): this loop stops, and the pool's
        // ceiling comes down to what runs without it.
        if (state.maxPollers > 1 && state.runningPollers > 1) {
          state.maxPollers = state.runningPollers - 1;
          this.logger.warn(`Binding ${state.name}: ActivityWorkerLimitExceeded, now at most ${state.maxPollers} poller(s)`);
          return; // this loop stops at once
        }
        await sleep(fullJitterDelay(failures, RETRY), signal);
        return;
      default:
        await sleep(fullJitterDelay(failures, RETRY), signal);
    }
  }
}
