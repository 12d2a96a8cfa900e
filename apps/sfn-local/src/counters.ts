/** Counters exposed by `counters()` and `GET /_local/counters`. Gauges are filled in at read time. */
export interface SfnLocalCounters {
  /** AWS calls received per action (including ones answered by an injected fault). */
  calls: Record<string, number>;
  /** Error answers per action and error type (`__type`, or `HTTP500`, `HTTP503`, `Dropped`). */
  errors: Record<string, Record<string, number>>;
  /** Gauge: polls parked right now, in total and per activity ARN. */
  parkedPolls: number;
  parkedPollsByArn: Record<string, number>;
  /** Gauge: tasks scheduled and not yet handed out, in total and per activity ARN. */
  pendingTasks: number;
  pendingTasksByArn: Record<string, number>;
  /** Gauge: tasks handed out and not yet closed. */
  openTasks: number;
  /** Most tasks of one activity handed out and not yet closed at once, per activity ARN (what `maxPending` bounds). */
  maxOpenTasksByArn: Record<string, number>;
  tasksScheduled: number;
  tasksHandedOut: number;
  /** Tasks closed, by reason (succeeded, failed, timedOut, heartbeatTimedOut, aborted). */
  tasksClosed: number;
  closes: Record<string, number>;
  /** Tasks withdrawn before hand-out (execution stopped or timed out). */
  tasksWithdrawn: number;
  /** Polls answered with no task after the full hold. */
  emptyPolls: number;
  /** Parked polls whose client went away before a task was handed to them. */
  pollsAbandoned: number;
  /** SendTaskSuccess/Failure/Heartbeat on a token whose task was already closed (answered TaskTimedOut). */
  duplicateSendTask: number;
  /**
   * SendTaskSuccess/SendTaskFailure calls that reached a task a result had already closed
   * (answered TaskTimedOut): a result sent twice. A late first result on a task that timed out
   * or was stopped is not counted; calls an injected fault answered never reached the task.
   */
  secondResults: number;
  heartbeats: number;
  executionsStarted: number;
  /** Injected faults that fired, by kind. */
  faultsFired: Record<string, number>;
}

export class Counters {
  calls: Record<string, number> = {};
  errors: Record<string, Record<string, number>> = {};
  tasksScheduled = 0;
  tasksHandedOut = 0;
  tasksClosed = 0;
  closes: Record<string, number> = {};
  tasksWithdrawn = 0;
  emptyPolls = 0;
  pollsAbandoned = 0;
  duplicateSendTask = 0;
  secondResults = 0;
  heartbeats = 0;
  executionsStarted = 0;
  faultsFired: Record<string, number> = {};
  private readonly openByArn: Record<string, number> = {};
  maxOpenTasksByArn: Record<string, number> = {};

  /** A task of `arn` was handed out. */
  opened(arn: string): void {
    const n = (this.openByArn[arn] = (this.openByArn[arn] ?? 0) + 1);
    if (n > (this.maxOpenTasksByArn[arn] ?? 0)) this.maxOpenTasksByArn[arn] = n;
  }

  /** A handed-out task of `arn` closed. */
  openClosed(arn: string): void {
    this.openByArn[arn] = Math.max(0, (this.openByArn[arn] ?? 0) - 1);
  }

  call(action: string): void {
    this.calls[action] = (this.calls[action] ?? 0) + 1;
  }

  error(action: string, type: string): void {
    const byType = (this.errors[action] ??= {});
    byType[type] = (byType[type] ?? 0) + 1;
  }

  close(reason: string): void {
    this.tasksClosed++;
    this.closes[reason] = (this.closes[reason] ?? 0) + 1;
  }

  fault(kind: string): void {
    this.faultsFired[kind] = (this.faultsFired[kind] ?? 0) + 1;
  }

  snapshot(): Omit<SfnLocalCounters, 'parkedPolls' | 'parkedPollsByArn' | 'pendingTasks' | 'pendingTasksByArn' | 'openTasks'> {
    return {
      calls: { ...this.calls },
      errors: Object.fromEntries(Object.entries(this.errors).map(([k, v]) => [k, { ...v }])),
      tasksScheduled: this.tasksScheduled,
      tasksHandedOut: this.tasksHandedOut,
      tasksClosed: this.tasksClosed,
      closes: { ...this.closes },
      tasksWithdrawn: this.tasksWithdrawn,
      emptyPolls: this.emptyPolls,
      pollsAbandoned: this.pollsAbandoned,
      duplicateSendTask: this.duplicateSendTask,
      secondResults: this.secondResults,
      heartbeats: this.heartbeats,
      executionsStarted: this.executionsStarted,
      faultsFired: { ...this.faultsFired },
      maxOpenTasksByArn: { ...this.maxOpenTasksByArn },
    };
  }
}
