import { errorMatches, State, TaskState } from './definition';
import { addEvent } from './history';
import type { Execution, ExecutionStatus, Task } from './model';
import { applyResultPath, ResultPathMatchFailure } from './result-path';
import type { TaskListener, Tasks } from './tasks';

const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Runs executions through their definition. Every transition is synchronous except waiting for an
 * activity task (driven by Tasks through TaskListener) and Retry intervals (a timer).
 */
export class Interpreter implements TaskListener {
  constructor(
    private readonly tasks: Tasks,
    private readonly activityExists: (arn: string) => boolean,
    private readonly onEnd: (exec: Execution) => void,
  ) {}

  start(exec: Execution): void {
    const def = exec.stateMachine.definition;
    addEvent(exec, 'ExecutionStarted', { input: exec.input, roleArn: exec.stateMachine.roleArn }, exec.startDate);
    if (def.timeoutSeconds && def.timeoutSeconds * 1000 <= MAX_TIMER_MS) {
      exec.timeoutTimer = setTimeout(
        () => this.end(exec, 'TIMED_OUT', 'ExecutionTimedOut', { error: 'States.Timeout' }),
        def.timeoutSeconds * 1000,
      );
    }
    this.enter(exec, def.startAt, exec.input);
  }

  /** StopExecution. */
  stop(exec: Execution, error?: string, cause?: string): void {
    this.end(exec, 'ABORTED', 'ExecutionAborted', { error, cause });
  }

  private enter(exec: Execution, name: string, input: string): void {
    // Pass chains are followed in a loop; Task states return and resume from TaskListener.
    for (;;) {
      if (exec.status !== 'RUNNING') return;
      const state = exec.stateMachine.definition.states.get(name) as State;
      addEvent(exec, `${state.type}StateEntered`, { name, input });
      switch (state.type) {
        case 'Task':
          exec.retries = [];
          return this.schedule(exec, state, input);
        case 'Pass': {
          const out = this.withResultPath(exec, () =>
            state.result
              ? applyResultPath(state.resultPath, input, JSON.stringify(state.result.value))
              : applyResultPath(state.resultPath, input, input),
          );
          if (out === undefined) return;
          addEvent(exec, 'PassStateExited', { name, output: out });
          if (!state.next) return this.succeed(exec, out);
          name = state.next;
          input = out;
          continue;
        }
        case 'Succeed':
          addEvent(exec, 'SucceedStateExited', { name, output: input });
          return this.succeed(exec, input);
        case 'Fail':
          return this.end(exec, 'FAILED', 'ExecutionFailed', { error: state.error, cause: state.cause });
      }
    }
  }

  private schedule(exec: Execution, state: TaskState, input: string): void {
    if (!this.activityExists(state.resource)) {
      const cause = `Activity does not exist: ${state.resource}`;
      addEvent(exec, 'ActivityScheduleFailed', { error: 'States.Runtime', cause });
      return this.end(exec, 'FAILED', 'ExecutionFailed', { error: 'States.Runtime', cause });
    }
    addEvent(exec, 'ActivityScheduled', {
      resource: state.resource,
      input,
      timeoutInSeconds: state.timeoutSeconds,
      heartbeatInSeconds: state.heartbeatSeconds,
    });
    this.tasks.schedule(exec, state, input);
  }

  started(task: Task): void {
    addEvent(task.execution, 'ActivityStarted', { workerName: task.workerName }, task.handedOutAt);
  }

  succeeded(task: Task, output: string): void {
    const exec = task.execution;
    addEvent(exec, 'ActivitySucceeded', { output });
    const out = this.withResultPath(exec, () => applyResultPath(task.state.resultPath, task.input, output));
    if (out !== undefined) this.exitTask(exec, task.state, out);
  }

  failed(task: Task, error: string | undefined, cause: string | undefined): void {
    addEvent(task.execution, 'ActivityFailed', { error, cause });
    this.handleError(task, error ?? '', cause);
  }

  timedOut(task: Task, error: 'States.Timeout' | 'States.HeartbeatTimeout'): void {
    addEvent(task.execution, 'ActivityTimedOut', { error });
    this.handleError(task, error, undefined);
  }

  private exitTask(exec: Execution, state: TaskState, output: string): void {
    addEvent(exec, 'TaskStateExited', { name: state.name, output });
    if (state.next) this.enter(exec, state.next, output);
    else this.succeed(exec, output);
  }

  /** Retry (first retrier whose ErrorEquals matches), then Catch, else the execution fails. */
  private handleError(task: Task, error: string, cause: string | undefined): void {
    const exec = task.execution;
    const state = task.state;
    const ri = state.retry.findIndex((r) => errorMatches(r.errorEquals, error));
    if (ri >= 0) {
      const r = state.retry[ri];
      const attempt = exec.retries[ri] ?? 0;
      if (attempt < r.maxAttempts) {
        exec.retries[ri] = attempt + 1;
        let delay = r.intervalSeconds * r.backoffRate ** attempt;
        if (r.maxDelaySeconds !== undefined) delay = Math.min(delay, r.maxDelaySeconds);
        if (r.jitter === 'FULL') delay = Math.random() * delay;
        exec.retryTimer = setTimeout(
          () => {
            exec.retryTimer = undefined;
            if (exec.status === 'RUNNING') this.schedule(exec, state, task.input);
          },
          Math.min(delay * 1000, MAX_TIMER_MS),
        );
        return;
      }
    }
    const c = state.catch.find((x) => errorMatches(x.errorEquals, error));
    if (!c) return this.end(exec, 'FAILED', 'ExecutionFailed', { error: error || undefined, cause });
    const errorOutput = JSON.stringify(cause === undefined ? { Error: error } : { Error: error, Cause: cause });
    const out = this.withResultPath(exec, () => applyResultPath(c.resultPath, task.input, errorOutput));
    if (out === undefined) return;
    addEvent(exec, 'TaskStateExited', { name: state.name, output: out });
    this.enter(exec, c.next, out);
  }

  private withResultPath(exec: Execution, f: () => string): string | undefined {
    try {
      return f();
    } catch (e) {
      if (!(e instanceof ResultPathMatchFailure)) throw e;
      this.end(exec, 'FAILED', 'ExecutionFailed', { error: 'States.ResultPathMatchFailure', cause: e.message });
      return undefined;
    }
  }

  private succeed(exec: Execution, output: string): void {
    exec.output = output;
    this.end(exec, 'SUCCEEDED', 'ExecutionSucceeded', { output });
  }

  private end(exec: Execution, status: ExecutionStatus, event: string, details: Record<string, unknown>): void {
    if (exec.status !== 'RUNNING') return;
    exec.status = status;
    exec.stopDate = Date.now();
    if (status !== 'SUCCEEDED') {
      exec.error = details.error as string | undefined;
      exec.cause = details.cause as string | undefined;
    }
    clearTimeout(exec.timeoutTimer);
    clearTimeout(exec.retryTimer);
    if (exec.task) this.tasks.cancel(exec.task);
    exec.task = undefined;
    addEvent(exec, event, details, exec.stopDate);
    this.onEnd(exec);
  }

  /** Clears an execution's timers without recording anything (reset/close). */
  dispose(exec: Execution): void {
    clearTimeout(exec.timeoutTimer);
    clearTimeout(exec.retryTimer);
  }
}
