import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { BRIDGE_CONFIG, BridgeConfig } from '@bridge/config';
import { HeartbeatSchedule } from '@bridge/heartbeat';
import { BridgeMetrics } from '@bridge/metrics';
import { BridgeQueue, RelayJobData, RelayResult } from '@bridge/queue';
import { IncidentLog, sleep } from '@bridge/common';
import { CallbackResult, SfnErrorKind, TaskCallbacks, tokenRef } from '@bridge/sfn';
import { heartbeatEvent, tagRelay, traceSettle } from '@bridge/tracing';
import { Job } from 'bullmq';
import { bridgeFailure, TaskOutcome } from './outcome';
import {
  AMBIGUOUS_SETTLE_MS,
  earlierAttemptMayHaveSent,
  mayHaveLanded,
  RECHECK_LOCK_AFTER_MS,
  RELAY_LOCK_MS,
  SEND_LOCK_MARGIN_MS,
  RelayLockLostError,
} from './relay-attempt';
import { RelayRetryableError } from './relay-retryable.error';
import { ResolvedOutcome, TaskOutcomeResolver } from './task-outcome.resolver';

/**
 * The bridge's worker on the relay queue. A relay job becomes ready when its child (the consumer's
 * job) completes or finally fails; this sends SendTaskSuccess / SendTaskFailure once.
 *
 * No result is sent twice. A job on its first attempt sends at once (no extra call). A job an
 * earlier attempt may have sent for (retried after an ambiguous error, stalled, its replica died)
 * first probes with SendTaskHeartbeat: "task gone" means that send landed (or the task ended),
 * so the job closes as `recovered` without sending; a live task gets the send. An attempt that ran
 * longer than half its lock checks it still holds the job before sending, and one whose send had
 * an ambiguous answer waits for that request to settle before the job is retried. Transient AWS
 * errors throw (BullMQ retries with backoff); a task Step Functions no longer knows at the first
 * send closes the job as `expired`.
 *
 * Locks are short: a replica that dies mid-relay has its jobs picked up by another within ~15 s,
 * and a job may stall many times (replica after replica killed) without being failed.
 */
@Processor(BridgeQueue.Relay, { lockDuration: RELAY_LOCK_MS, stalledInterval: 5_000, maxStalledCount: 20 })
export class RelayProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly logger = new Logger(RelayProcessor.name);
  /** Transient relay failures (throttling, 5xx, resets) log once per burst. */
  private readonly failures = new IncidentLog(this.logger, 'Relaying results to Step Functions');
  private readonly workerErrors = new IncidentLog(this.logger, 'The relay worker');

  constructor(
    @Inject(BRIDGE_CONFIG) private readonly config: BridgeConfig,
    private readonly resolver: TaskOutcomeResolver,
    private readonly callbacks: TaskCallbacks,
    private readonly metrics: BridgeMetrics,
    private readonly heartbeats: HeartbeatSchedule,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    this.worker.concurrency = this.config.relay.concurrency;
    this.worker.on('error', (err) => this.workerErrors.failure(err.message));
    this.worker.on('completed', () => this.workerErrors.success());
  }

  async process(job: Job<RelayJobData>, lockToken?: string): Promise<RelayResult> {
    // The lock was taken when the job became active (`processedOn`, this process's clock), which
    // on a starved event loop can be well before this call.
    const result = await this.relay(job, lockToken, Math.min(Date.now(), job.processedOn ?? Date.now()));
    tagRelay(job.data, job.id, result.status);
    // Closed one way or another: no more heartbeats for this token.
    await this.heartbeats.remove(job.id as string, job.data.binding);
    return result;
  }

  private async relay(job: Job<RelayJobData>, lockToken: string | undefined, startedAt: number): Promise<RelayResult> {
    const { binding, taskToken } = job.data;
    if (job.data.cancelled) {
      this.metrics.relays.inc({ binding, outcome: 'cancelled' });
      return { status: 'cancelled', reason: job.data.cancelled };
    }
    const resolved = await this.resolver.resolve(job);
    if (earlierAttemptMayHaveSent(job)) {
      const probe = await this.callbacks.heartbeat(taskToken);
      heartbeatEvent(probe);
      if (!probe.ok && probe.kind === SfnErrorKind.TaskGone) {
        this.metrics.relays.inc({ binding, outcome: 'recovered' });
        this.logger.log(
          `Task ${tokenRef(taskToken)} (${binding}) was already closed when attempt ${job.attemptsStarted} of its relay probed ` +
            `(${probe.name}): an earlier attempt's result landed, or the task ended; nothing sent again`,
        );
        return { status: 'recovered', reason: probe.name };
      }
      if (!probe.ok) return this.failed(job, probe);
    }
    let outcome = resolved.outcome;
    const lockedAt = await this.assertStillOwned(job, lockToken, startedAt);
    // The send must be over before the lock (taken at `lockedAt`, renewed since) could lapse.
    const signal = AbortSignal.timeout(Math.max(1, lockedAt + RELAY_LOCK_MS - SEND_LOCK_MARGIN_MS - Date.now()));
    let result = await traceSettle(job.data, job.id, outcome, () => this.send(taskToken, outcome, signal));
    if (!result.ok && result.kind === SfnErrorKind.InvalidOutput && outcome.kind === 'success') {
      // Refused without closing the task: the failure below is its first result, not a second.
      outcome = bridgeFailure('OutputTooLarge', `Step Functions refused the output: ${(result.error as Error).message}`);
      result = await traceSettle(job.data, job.id, outcome, () => this.send(taskToken, outcome, signal));
    }
    if (result.ok) {
      this.failures.success();
      this.observe(job, resolved, outcome.kind);
      if (this.config.log.payloads) {
        const payload = outcome.kind === 'success' ? `output ${outcome.output}` : `error ${outcome.error}: ${outcome.cause}`;
        this.logger.debug(`Relayed ${outcome.kind} for task ${tokenRef(taskToken)} (${binding}) with ${payload}`);
      }
      return outcome.kind === 'success'
        ? { status: 'relayed', outcome: 'success' }
        : { status: 'relayed', outcome: 'failure', error: outcome.error };
    }
    if (result.kind === SfnErrorKind.TaskGone) {
      this.metrics.relays.inc({ binding, outcome: 'expired' });
      this.logger.warn(`Task ${tokenRef(taskToken)} (${binding}) ended before its result could be relayed: ${result.name}`);
      return { status: 'expired', reason: result.name };
    }
    // The request may still be applied a moment later; the retry's probe must see it.
    if (mayHaveLanded(result.kind)) await sleep(AMBIGUOUS_SETTLE_MS);
    return this.failed(job, result);
  }

  /** Counts and logs a failed call, stops heartbeats on the last attempt, throws for a retry. */
  private async failed(job: Job<RelayJobData>, result: Extract<CallbackResult, { ok: false }>): Promise<never> {
    const { binding, taskToken } = job.data;
    this.metrics.relayErrors.inc({ binding, error: result.name });
    const attempt = job.attemptsMade + 1;
    const message = `Relay of task ${tokenRef(taskToken)} (${binding}) failed on attempt ${attempt}/${job.opts.attempts ?? 1}: ${result.name}`;
    if (attempt >= (job.opts.attempts ?? 1)) {
      // Stop heartbeating a task that will never be relayed, so Step Functions times it out.
      await this.heartbeats.remove(job.id as string, binding);
      this.logger.error(`${message}; giving up, Step Functions will time the task out`);
    } else {
      this.failures.failure(`${message}; retrying with backoff`);
    }
    throw new RelayRetryableError(message);
  }

  /**
   * After a long attempt (the lock may have lapsed and another replica taken the job), re-takes
   * the lock or stops. Returns since when the lock is surely held.
   */
  private async assertStillOwned(job: Job<RelayJobData>, lockToken: string | undefined, startedAt: number): Promise<number> {
    if (!lockToken || Date.now() - startedAt < RECHECK_LOCK_AFTER_MS) return startedAt;
    const now = Date.now();
    const held = await job.extendLock(lockToken, RELAY_LOCK_MS);
    if (Number(held) !== 1) {
      throw new RelayLockLostError(`Relay of task ${tokenRef(job.data.taskToken)} lost its lock; another replica relays it`);
    }
    return now;
  }

  private send(taskToken: string, outcome: TaskOutcome, signal: AbortSignal): Promise<CallbackResult> {
    return outcome.kind === 'success'
      ? this.callbacks.success(taskToken, outcome.output, signal)
      : this.callbacks.failure(taskToken, outcome.error, outcome.cause, signal);
  }

  private observe(job: Job<RelayJobData>, resolved: ResolvedOutcome, kind: 'success' | 'failure'): void {
    const binding = job.data.binding;
    const now = Date.now();
    this.metrics.relays.inc({ binding, outcome: kind });
    this.metrics.endToEndSeconds.observe({ binding }, (now - job.data.receivedAt) / 1000);
    const child = resolved.child;
    if (!child) return;
    if (child.processedOn) this.metrics.queueWaitSeconds.observe({ binding }, Math.max(0, child.processedOn - child.timestamp) / 1000);
    if (child.finishedOn) {
      if (child.processedOn) this.metrics.processingSeconds.observe({ binding }, Math.max(0, child.finishedOn - child.processedOn) / 1000);
      this.metrics.relaySeconds.observe({ binding }, Math.max(0, now - child.finishedOn) / 1000);
    }
  }
}
