import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { BRIDGE_CONFIG, BridgeConfig } from '@bridge/config';
import { HeartbeatSchedule } from '@bridge/heartbeat';
import { BridgeMetrics } from '@bridge/metrics';
import { ClaimedTask, REDIS_CONNECTION, RecordClient, RELAY_GROUP, RelayResult, TaskRecords, tombstoneMs } from '@bridge/queue';
import { IncidentLog, sleep } from '@bridge/common';
import { CallbackResult, SfnErrorKind, TaskCallbacks, tokenRef } from '@bridge/sfn';
import { heartbeatEvent, traceRelay, traceSettle } from '@bridge/tracing';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { heardOf, JOB_FIELDS, JobEnd, joinEnd, keptOr, ResolvedOutcome, resolveOutcome } from './job-end';
import { RelaySlots } from './relay-slots';
import { bridgeFailure, TaskOutcome } from './outcome';
import {
  AMBIGUOUS_SETTLE_MS,
  earlierAttemptMayHaveSent,
  mayHaveLanded,
  RELAY_LEASE_MS,
  relayBackoffMs,
  SEND_DEADLINE_MS,
} from './relay-attempt';

/** A job end to relay, with the event stream entries that announced it (acknowledged when it closes). */
export interface RelayRequest extends JobEnd {
  /** Grows when another event of the same job arrives while this relay waits or runs. */
  entryIds: string[];
  /** ms since epoch the job finished, when known (the event's stream id): relay latency. */
  finishedAt?: number;
}

/** What became of one request: relayed or closed here, closed already, or being relayed elsewhere. */
type Settled = RelayResult | { status: 'closed-before' | 'elsewhere' | 'not-a-task' | 'shutdown' };

/** What the relay needs of the shared connection. */
type RelayConnection = RecordClient & object;

/**
 * Sends each task's result to Step Functions once: SendTaskSuccess for a job's return value,
 * SendTaskFailure for its final failure (or Bridge.* for output Step Functions cannot take, or a job
 * removed before it finished). Job ends come from the binding queues' event streams
 * (TaskEventsReader) or from a heartbeat that found a finished job nobody relayed.
 *
 * No result is sent twice, across replicas and crashes. Each attempt first claims the task's record
 * (task-record.lua.ts: one script, Redis time): a closed task is not relayed again, a task another
 * replica holds a lease on is left to it, and the claim counts attempts. The first claim sends at
 * once (no extra call on the normal path). A later one (a retry, a replica that died holding the
 * task, another that took it over) first probes with SendTaskHeartbeat: "task gone" means that send
 * landed (or the task ended), so it closes as `recovered` without sending. A send must finish well
 * inside the lease (SEND_DEADLINE_MS), and one whose answer was lost waits AMBIGUOUS_SETTLE_MS, still
 * inside the lease, before the task can be retried, here or by another replica. The close is one
 * script: record closed, heartbeat-schedule entry and outstanding-set member removed, stream
 * entries acknowledged, all only if this replica still holds the claim. The first claim keeps how
 * the job ended in the record, so whoever relays after it (a takeover, a heartbeat's find) sends
 * that, even once the event and the job are gone. At most RELAY_CONCURRENCY relays run at once;
 * the rest wait in memory, their stream entries pending.
 *
 * Transient AWS errors retry with exponential backoff (RELAY_ATTEMPTS, RELAY_BACKOFF_MS), in
 * memory: a replica that dies meanwhile leaves the task to another once its lease lapses.
 */
@Injectable()
export class RelayService implements OnModuleDestroy {
  private readonly logger = new Logger(RelayService.name);
  /** Transient relay failures (throttling, 5xx, resets) log once per burst. */
  private readonly failures = new IncidentLog(this.logger, 'Relaying results to Step Functions');
  /** This replica's name in claims and in the consumer group. */
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  readonly records: TaskRecords;
  /** Relays running or waiting here, by job id (their backoff included): one per task at a time. */
  private readonly slots: RelaySlots<RelayRequest>;
  private stopping = false;
  private readonly stop = new AbortController();

  constructor(
    @Inject(BRIDGE_CONFIG) private readonly config: BridgeConfig,
    @Inject(REDIS_CONNECTION) private readonly redis: RelayConnection,
    private readonly callbacks: TaskCallbacks,
    private readonly metrics: BridgeMetrics,
    private readonly schedule: HeartbeatSchedule,
  ) {
    this.records = new TaskRecords(redis, config.redis.prefix, tombstoneMs(config.enqueue.retryForMs));
    this.slots = new RelaySlots(config.relay.concurrency, (request) => this.run(request));
  }

  /** Relays running or waiting for a slot here. */
  get inFlight(): number {
    return this.slots.size;
  }

  /** Whether a relay of this job runs or waits here now (its backoff included). */
  isRunning(jobId: string): boolean {
    return this.slots.find(jobId) !== undefined;
  }

  /** Resolves when fewer than RELAY_CONCURRENCY relays run or wait here (the reader reads on then). */
  room(): Promise<void> {
    return this.slots.room();
  }

  /**
   * Relays a job end: at once if one of the RELAY_CONCURRENCY slots is free, else when one frees.
   * Another end of a job relayed here already joins that relay (its entries are acknowledged by
   * that relay's close; a `completed` / `failed` event replaces a heartbeat's `found`: joinEnd).
   * False only while shutting down (the entries stay pending: another replica
   * takes them over). Never rejects.
   */
  relay(request: RelayRequest): boolean {
    if (this.stopping) return false;
    const same = this.slots.find(request.jobId);
    if (same) {
      same.entryIds.push(...request.entryIds);
      joinEnd(same, request);
    } else this.slots.add(request.jobId, request);
    return true;
  }

  /** Shutdown: no new relay starts (queued ones stay pending for another replica), backoffs end at once, sends in flight finish. */
  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    this.stop.abort();
    await this.slots.close();
  }

  /** Tries until the task is closed (here or elsewhere) or the attempts are used up. */
  private async run(request: RelayRequest): Promise<Settled> {
    for (let attempt = 1; ; attempt++) {
      let settled: Settled | undefined;
      try {
        settled = await this.attempt(request, attempt);
      } catch (err) {
        // Redis refused the claim or the close: retried like a transient AWS error; after the last
        // attempt the task is left to the event's redelivery (its entry stays pending) or a heartbeat.
        this.failures.failure(`Relay of job ${request.jobId.slice(0, 12)} on ${request.queue}: ${(err as Error).message}`);
        if (attempt >= this.config.relay.attempts) return { status: 'elsewhere' };
      }
      if (settled) return settled;
      if (this.stopping) return { status: 'shutdown' };
      await sleep(relayBackoffMs(attempt, this.config.relay.backoffMs), this.stop.signal);
      if (this.stopping) return { status: 'shutdown' };
    }
  }

  /** One claim and send; undefined when it should be retried. */
  private async attempt(request: RelayRequest, attempt: number): Promise<Settled | undefined> {
    const claimedAt = Date.now();
    const claim = await this.records.claim(
      request.queue,
      request.jobId,
      this.owner,
      RELAY_LEASE_MS,
      heardOf(request),
      JOB_FIELDS[request.kind],
    );
    if (claim.state === 'closed') {
      await this.acknowledge(request);
      return { status: 'closed-before' };
    }
    if (claim.state === 'missing') {
      // Not the bridge's job (another producer shares the queue), or closed long ago.
      await this.acknowledge(request);
      return { status: 'not-a-task' };
    }
    if (claim.state === 'busy') return { status: 'elsewhere' };
    const task = claim.task;
    return traceRelay(task, request.jobId, () => this.send(request, task, claimedAt, attempt));
  }

  private async send(request: RelayRequest, task: ClaimedTask, claimedAt: number, attempt: number): Promise<Settled | undefined> {
    const { binding, taskToken } = task;
    if (earlierAttemptMayHaveSent(task.attempts)) {
      const probe = await this.callbacks.heartbeat(taskToken);
      heartbeatEvent(probe);
      if (!probe.ok && probe.kind === SfnErrorKind.TaskGone) {
        this.logger.log(
          `Task ${tokenRef(taskToken)} (${binding}) was already closed when claim ${task.attempts} of its relay probed ` +
            `(${probe.name}): an earlier attempt's result landed, or the task ended; nothing sent again`,
        );
        return this.close(request, task, { status: 'recovered', reason: probe.name });
      }
      if (!probe.ok) return this.failed(request, task, attempt, probe);
    }
    const resolved = resolveOutcome(keptOr(request, task.kept), task.job);
    let outcome = resolved.outcome;
    // Over before the lease could lapse, with the settle time to spare (relay-attempt.ts).
    const left = claimedAt + SEND_DEADLINE_MS - Date.now();
    if (left <= 0) {
      this.failures.failure(`Relay of task ${tokenRef(taskToken)} (${binding}) claimed too long ago to send safely; retrying`);
      return undefined;
    }
    const signal = AbortSignal.timeout(left);
    let result = await traceSettle(task, request.jobId, outcome, () => this.call(taskToken, outcome, signal));
    if (!result.ok && result.kind === SfnErrorKind.InvalidOutput && outcome.kind === 'success') {
      // Refused without closing the task: the failure below is its first result, not a second.
      outcome = bridgeFailure('OutputTooLarge', `Step Functions refused the output: ${(result.error as Error).message}`);
      result = await traceSettle(task, request.jobId, outcome, () => this.call(taskToken, outcome, signal));
    }
    if (result.ok) {
      this.failures.success();
      if (this.config.log.payloads) {
        const payload = outcome.kind === 'success' ? `output ${outcome.output}` : `error ${outcome.error}: ${outcome.cause}`;
        this.logger.debug(`Relayed ${outcome.kind} for task ${tokenRef(taskToken)} (${binding}) with ${payload}`);
      }
      const settled = await this.close(
        request,
        task,
        outcome.kind === 'success'
          ? { status: 'relayed', outcome: 'success' }
          : { status: 'relayed', outcome: 'failure', error: outcome.error },
      );
      if (settled.status === 'relayed') this.observe(request, task, resolved, outcome.kind);
      return settled;
    }
    if (result.kind === SfnErrorKind.TaskGone) {
      this.logger.warn(`Task ${tokenRef(taskToken)} (${binding}) ended before its result could be relayed: ${result.name}`);
      return this.close(request, task, { status: 'expired', reason: result.name });
    }
    // The request may still be applied a moment later; the retry's probe must see it. The lease
    // still holds meanwhile (SEND_DEADLINE_MS leaves the settle time inside it).
    if (mayHaveLanded(result.kind)) await sleep(AMBIGUOUS_SETTLE_MS);
    return this.failed(request, task, attempt, result);
  }

  /** Counts and logs a failed call; on the last attempt closes the task as abandoned (no more heartbeats). */
  private async failed(
    request: RelayRequest,
    task: ClaimedTask,
    attempt: number,
    result: Extract<CallbackResult, { ok: false }>,
  ): Promise<Settled | undefined> {
    const { binding, taskToken } = task;
    this.metrics.relayErrors.inc({ binding, error: result.name });
    const attempts = this.config.relay.attempts;
    const message = `Relay of task ${tokenRef(taskToken)} (${binding}) failed on attempt ${attempt}/${attempts}: ${result.name}`;
    if (attempt >= attempts) {
      // Stop heartbeating a task that will never be relayed, so Step Functions times it out.
      this.logger.error(`${message}; giving up, Step Functions will time the task out`);
      return this.close(request, task, { status: 'abandoned', reason: result.name });
    }
    this.failures.failure(`${message}; retrying with backoff`);
    return undefined;
  }

  /**
   * Closes the task: record, heartbeat schedule and outstanding set, stream entries, in one script,
   * only if this replica still holds the claim. Counted once, here (relayed ones by observe).
   */
  private async close(request: RelayRequest, task: ClaimedTask, result: RelayResult): Promise<Settled> {
    const closed = await this.records.close(
      request.queue,
      request.jobId,
      this.owner,
      result,
      this.schedule.unscheduleKeys(task.binding),
      RELAY_GROUP,
      request.entryIds,
    );
    if (closed === -1) {
      this.logger.debug(`Task ${tokenRef(task.taskToken)} (${task.binding}): another replica holds its relay now`);
      return { status: 'elsewhere' };
    }
    this.schedule.closedElsewhere(request.jobId);
    if (closed === 0) return { status: 'closed-before' };
    if (result.status !== 'relayed') this.metrics.relays.inc({ binding: task.binding, outcome: result.status });
    return result;
  }

  /** Acknowledges the entries of a job end that needs no relay (closed already, not a task). */
  private async acknowledge(request: RelayRequest): Promise<void> {
    if (request.entryIds.length === 0) return;
    await (this.redis as unknown as { xack(key: string, group: string, ...ids: string[]): Promise<number> }).xack(
      this.records.keys.events(request.queue),
      RELAY_GROUP,
      ...request.entryIds,
    );
  }

  private call(taskToken: string, outcome: TaskOutcome, signal: AbortSignal): Promise<CallbackResult> {
    return outcome.kind === 'success'
      ? this.callbacks.success(taskToken, outcome.output, signal)
      : this.callbacks.failure(taskToken, outcome.error, outcome.cause, signal);
  }

  private observe(request: RelayRequest, task: ClaimedTask, resolved: ResolvedOutcome, kind: 'success' | 'failure'): void {
    const binding = task.binding;
    const now = Date.now();
    this.metrics.relays.inc({ binding, outcome: kind });
    this.metrics.endToEndSeconds.observe({ binding }, (now - task.receivedAt) / 1000);
    const job = resolved.job;
    const finishedOn = request.finishedAt ?? job?.finishedOn;
    if (finishedOn) this.metrics.relaySeconds.observe({ binding }, Math.max(0, now - finishedOn) / 1000);
    if (!job) return;
    if (job.processedOn) this.metrics.queueWaitSeconds.observe({ binding }, Math.max(0, job.processedOn - job.timestamp) / 1000);
    if (job.finishedOn && job.processedOn) {
      this.metrics.processingSeconds.observe({ binding }, Math.max(0, job.finishedOn - job.processedOn) / 1000);
    }
  }
}
