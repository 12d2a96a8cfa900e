import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { BRIDGE_CONFIG, BridgeConfig } from '@bridge/config';
import { HeartbeatSchedule } from '@bridge/heartbeat';
import { BridgeMetrics } from '@bridge/metrics';
import { BridgeQueue, RelayJobData, RelayResult } from '@bridge/queue';
import { BurstLog, CallbackResult, SfnErrorKind, TaskCallbacks, tokenRef } from '@bridge/sfn';
import { Job } from 'bullmq';
import { bridgeFailure, TaskOutcome } from './outcome';
import { RelayRetryableError } from './relay-retryable.error';
import { ResolvedOutcome, TaskOutcomeResolver } from './task-outcome.resolver';

/**
 * The bridge's worker on the relay queue. A relay job becomes ready when its child (the consumer's
 * job) completes or finally fails; this sends SendTaskSuccess / SendTaskFailure. Transient AWS
 * errors throw (BullMQ retries with backoff); a task Step Functions no longer knows closes the job
 * as `expired`, never retried. Relay state lives in Redis, so a crash between a consumer finishing
 * and the relay is recovered by whichever replica picks the job up, exactly once per job lock.
 */
/**
 * Relay jobs take milliseconds, so locks are short: a replica that dies mid-relay has its jobs
 * picked up by another within ~15 s (not BullMQ's default 30-60 s), and a job may stall many times
 * (replica after replica killed) without being failed: a repeated relay is answered TaskTimedOut
 * and closed as expired, never sent twice.
 */
@Processor(BridgeQueue.Relay, { lockDuration: 10_000, stalledInterval: 5_000, maxStalledCount: 20 })
export class RelayProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly logger = new Logger(RelayProcessor.name);
  /** Transient relay failures (throttling, 5xx, resets) log once per burst. */
  private readonly failures = new BurstLog(this.logger, 'Relaying results to Step Functions');
  private readonly workerErrors = new BurstLog(this.logger, 'The relay worker');

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

  async process(job: Job<RelayJobData & { cancelled?: string }>): Promise<RelayResult> {
    const result = await this.relay(job);
    // Closed one way or another: no more heartbeats for this token.
    await this.heartbeats.remove(job.id as string);
    return result;
  }

  private async relay(job: Job<RelayJobData & { cancelled?: string }>): Promise<RelayResult> {
    const { binding, taskToken } = job.data;
    if (job.data.cancelled) {
      this.metrics.relays.inc({ binding, outcome: 'cancelled' });
      return { status: 'cancelled', reason: job.data.cancelled };
    }
    const resolved = await this.resolver.resolve(job);
    let outcome = resolved.outcome;
    let result = await this.send(taskToken, outcome);
    if (!result.ok && result.kind === SfnErrorKind.InvalidOutput && outcome.kind === 'success') {
      outcome = bridgeFailure('OutputTooLarge', `Step Functions refused the output: ${(result.error as Error).message}`);
      result = await this.send(taskToken, outcome);
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
    this.metrics.relayErrors.inc({ binding, error: result.name });
    const attempt = job.attemptsMade + 1;
    const message = `Relay of task ${tokenRef(taskToken)} (${binding}) failed on attempt ${attempt}/${job.opts.attempts ?? 1}: ${result.name}`;
    if (attempt >= (job.opts.attempts ?? 1)) {
      // Stop heartbeating a task that will never be relayed, so Step Functions times it out.
      await this.heartbeats.remove(job.id as string);
      this.logger.error(`${message}; giving up, Step Functions will time the task out`);
    } else {
      this.failures.failure(`${message}; retrying with backoff`);
    }
    throw new RelayRetryableError(message);
  }

  private send(taskToken: string, outcome: TaskOutcome): Promise<CallbackResult> {
    return outcome.kind === 'success'
      ? this.callbacks.success(taskToken, outcome.output)
      : this.callbacks.failure(taskToken, outcome.error, outcome.cause);
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
