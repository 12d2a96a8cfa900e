import { GetActivityTaskCommand, GetActivityTaskCommandOutput, SFNClient } from '@aws-sdk/client-sfn';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { setMaxListeners } from 'node:events';
import { IncidentLog } from '@bridge/common';
import { BRIDGE_CONFIG, BridgeConfig } from '@bridge/config';
import { BridgeMetrics } from '@bridge/metrics';
import { TaskProducer } from '@bridge/producer';
import { classifySfnError, delay, fullJitterDelay, SFN_POLL_CLIENT, SfnErrorKind, sfnErrorName } from '@bridge/sfn';
import { BindingState } from './binding-state';
import { CapacityGate } from './capacity-gate';

const RETRY = { baseMs: 200, capMs: 20_000 };
/** Retry of a binding whose activity is missing or ARN invalid: 1 s, 2 s, 4 s ... up to 30 s. */
const BROKEN_BINDING_RETRY = { firstMs: 1_000, maxMs: 30_000 };

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
 * Runs `pollers` long-poll loops per binding. A loop waits for room (CapacityGate), calls
 * GetActivityTask, which it never aborts (an aborted poll can still be handed a task that is then
 * lost), and hands any token to the producer at once. On shutdown no new poll starts and the
 * parked ones are awaited (up to SHUTDOWN_DRAIN_TIMEOUT_MS) and their tasks enqueued.
 */
@Injectable()
export class PollerService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(PollerService.name);
  private readonly states: BindingState[];
  private readonly stop = new AbortController();
  private loops: Promise<void>[] = [];
  private draining?: Promise<void>;
  /** Failed polls per binding, logged as incidents (start, a summary a minute, end). */
  private readonly pollFailures = new Map<BindingState, IncidentLog>();

  constructor(
    @Inject(BRIDGE_CONFIG) private readonly config: BridgeConfig,
    @Inject(SFN_POLL_CLIENT) private readonly client: SFNClient,
    private readonly gate: CapacityGate,
    private readonly producer: TaskProducer,
    private readonly metrics: BridgeMetrics,
  ) {
    this.states = config.bindings.map((b) => new BindingState(b));
    for (const state of this.states) this.pollFailures.set(state, new IncidentLog(this.logger, `Binding ${state.name}: GetActivityTask`));
    // Every waiting loop listens for the stop signal.
    setMaxListeners(0, this.stop.signal);
  }

  onApplicationBootstrap(): void {
    for (const state of this.states) {
      this.metrics.bindingHealthy.set({ binding: state.name }, 1);
      this.metrics.parkedPolls.set({ binding: state.name }, 0);
      for (let i = 0; i < state.config.pollers; i++) this.loops.push(this.loop(state, i));
    }
    this.logger.log(
      `Polling ${this.states.length} binding(s) with ${this.loops.length} poller(s) as worker "${this.config.workerName}"`,
    );
  }

  async onModuleDestroy(): Promise<void> {
    await this.drain();
    for (const incident of this.pollFailures.values()) incident.dispose();
  }

  /** Stops starting polls and waits for parked ones (their tasks are enqueued); later calls share the first. */
  drain(): Promise<void> {
    this.draining ??= this.drainOnce();
    return this.draining;
  }

  private async drainOnce(): Promise<void> {
    this.stop.abort();
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
      activePollers: s.activePollers,
      lastResponseAt: s.lastResponseAt,
      noAnswerSince: s.noAnswerSince,
      noAnswerCount: s.noAnswerCount,
    }));
  }

  private async loop(state: BindingState, index: number): Promise<void> {
    const signal = this.stop.signal;
    let failures = 0;
    while (!signal.aborted && index < state.activePollers) {
      if (!(await this.gate.waitForRoom(state, signal))) break;
      // The gate reserved this poll's slot in state.capacity; pollEnded releases or passes it on.
      let out: GetActivityTaskCommandOutput;
      this.metrics.parkedPolls.inc({ binding: state.name });
      try {
        out = await this.client.send(
          new GetActivityTaskCommand({ activityArn: state.config.activityArn, workerName: this.config.workerName }),
        );
      } catch (err) {
        state.capacity.pollEnded(false);
        this.metrics.parkedPolls.dec({ binding: state.name });
        state.recordPollOutcome(err);
        failures++;
        await this.onPollError(state, index, err, failures, signal);
        continue;
      }
      state.capacity.pollEnded(Boolean(out.taskToken));
      // A taken token lives only in this process until written: its write starts before anything else.
      const writing = out.taskToken ? this.handOff(state, out.taskToken, out.input) : undefined;
      this.metrics.parkedPolls.dec({ binding: state.name });
      failures = 0;
      state.recordPollOutcome();
      this.onPollSuccess(state);
      this.metrics.polls.inc({ binding: state.name, result: writing ? 'task' : 'empty' });
      await writing;
    }
  }

  /**
   * Hands a token to the producer. Its capacity slot counts as a write in flight until the write
   * lands, then as written: a queue count read meanwhile never subtracts a task Redis does not hold yet.
   */
  private async handOff(state: BindingState, taskToken: string, input: string | undefined): Promise<void> {
    const receivedAt = Date.now();
    let landed = false;
    try {
      const result = await this.producer.enqueue(state.config, { taskToken, input, receivedAt });
      landed = result.enqueued;
    } finally {
      state.capacity.writeEnded(landed);
    }
  }

  private onPollSuccess(state: BindingState): void {
    this.pollFailures.get(state)?.success();
    if (!state.healthy) {
      state.healthy = true;
      state.lastError = undefined;
      this.metrics.bindingHealthy.set({ binding: state.name }, 1);
    }
  }

  private async onPollError(
    state: BindingState,
    index: number,
    err: unknown,
    failures: number,
    signal: AbortSignal,
  ): Promise<void> {
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
        if (state.activePollers > 1 && index === state.activePollers - 1) {
          state.activePollers--;
          this.logger.warn(`Binding ${state.name}: ActivityWorkerLimitExceeded, now ${state.activePollers} poller(s)`);
        }
        await delay(fullJitterDelay(failures, RETRY), signal);
        return;
      default:
        await delay(fullJitterDelay(failures, RETRY), signal);
    }
  }
}
