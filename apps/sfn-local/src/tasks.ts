import { SfnError, invalidToken } from './errors';
import type { Counters } from './counters';
import type { CloseReason, Execution, Task } from './model';
import type { TaskState } from './definition';
import { TokenCodec, tokenHash } from './tokens';
import type { ActivityQueues } from './activity-queues';

/** What the interpreter is told about a task's life. */
export interface TaskListener {
  started(task: Task): void;
  succeeded(task: Task, output: string): void;
  failed(task: Task, error: string | undefined, cause: string | undefined): void;
  timedOut(task: Task, error: 'States.Timeout' | 'States.HeartbeatTimeout'): void;
}

const MAX_TIMER_MS = 2 ** 31 - 1;
const RETAIN_BY_HASH = 50_000;

/**
 * Task lifecycle: pending (scheduled) -> started (token handed out, clocks running) -> closed,
 * or pending -> withdrawn. Both the TimeoutSeconds and HeartbeatSeconds clocks start at hand-out
 * (ActivityStarted). One Node timer per clock; a heartbeat just `refresh()`es its timer.
 */
export class Tasks {
  readonly codec = new TokenCodec();
  private readonly open = new Map<number, Task>();
  private readonly byHash = new Map<string, Task>();
  private nextId = 1;
  listener!: TaskListener;
  queues!: ActivityQueues;

  constructor(private readonly counters: Counters) {}

  get openCount(): number {
    return this.open.size;
  }

  schedule(execution: Execution, state: TaskState, input: string): Task {
    const task: Task = {
      id: this.nextId++,
      activityArn: state.resource,
      execution,
      state,
      input,
      status: 'pending',
      scheduledAt: Date.now(),
    };
    execution.task = task;
    execution.tasks.push(task);
    this.counters.tasksScheduled++;
    this.queues.enqueue(task);
    return task;
  }

  /** Called by the queues when a live poll takes the task; returns the GetActivityTask body. */
  handOut = (task: Task, workerName: string | undefined): string => {
    const token = this.codec.issue(task.id);
    task.status = 'started';
    task.token = token;
    task.tokenHash = tokenHash(token);
    task.workerName = workerName;
    task.handedOutAt = Date.now();
    this.open.set(task.id, task);
    this.byHash.set(task.tokenHash, task);
    if (this.byHash.size > RETAIN_BY_HASH) this.byHash.delete(this.byHash.keys().next().value!);
    this.counters.tasksHandedOut++;
    this.counters.opened(task.activityArn);
    const { timeoutSeconds, heartbeatSeconds } = task.state;
    if (timeoutSeconds && timeoutSeconds * 1000 <= MAX_TIMER_MS) {
      task.timeoutTimer = setTimeout(() => this.expire(task, 'States.Timeout'), timeoutSeconds * 1000);
    }
    if (heartbeatSeconds && heartbeatSeconds * 1000 <= MAX_TIMER_MS) {
      task.heartbeatTimer = setTimeout(() => this.expire(task, 'States.HeartbeatTimeout'), heartbeatSeconds * 1000);
    }
    this.listener.started(task);
    // A token is standard base64 (A-Z a-z 0-9 + / =): nothing to escape, so no JSON.stringify.
    return `{"taskToken":"${token}","input":${JSON.stringify(task.input)}}`;
  };

  /**
   * The open task a token names, or the error AWS gives for it. Hot path: the header names an open
   * task whose issued token is this exact string (no MAC needed). Otherwise the MAC decides between
   * tampered (InvalidToken) and issued-but-closed (TaskTimedOut).
   */
  resolve(token: string): Task {
    const h = this.codec.header(token);
    if (h.kind === 'ours') {
      const task = this.open.get(h.taskId);
      if (task && task.token === token) return task;
    }
    if (h.kind === 'malformed' || (h.kind === 'ours' && !this.codec.verify(token))) throw invalidToken('Invalid Token');
    if (h.kind === 'foreign') {
      if (!this.codec.wellFormed(token)) throw invalidToken('Invalid Token');
      throw new SfnError('TaskDoesNotExist', 'Task does not exist');
    }
    // Issued by us, intact, no longer open: closed, timed out, stopped.
    this.counters.duplicateSendTask++;
    throw new SfnError('TaskTimedOut', 'Task Timed Out');
  }

  succeed(task: Task, output: string): void {
    this.close(task, 'succeeded');
    this.listener.succeeded(task, output);
  }

  fail(task: Task, error: string | undefined, cause: string | undefined): void {
    this.close(task, 'failed');
    this.listener.failed(task, error, cause);
  }

  /**
   * The open task a SendTaskSuccess/SendTaskFailure names; like `resolve`, but a call on a task a
   * result already closed is counted as a second result.
   */
  resolveForResult(token: string): Task {
    try {
      return this.resolve(token);
    } catch (e) {
      const closed = this.byHash.get(tokenHash(token));
      if (closed && (closed.closeReason === 'succeeded' || closed.closeReason === 'failed')) {
        closed.secondResults = (closed.secondResults ?? 0) + 1;
        (closed.secondResultAt ??= []).push(Date.now());
        this.counters.secondResults++;
      }
      throw e;
    }
  }

  heartbeat(task: Task): void {
    this.counters.heartbeats++;
    this.noteSilence(task);
    task.lastHeartbeatAt = Date.now();
    task.heartbeatTimer?.refresh();
  }

  /** The execution ended (stopped, timed out): withdraw a pending task, close an open one. */
  cancel(task: Task): void {
    if (task.status === 'pending') {
      this.queues.withdraw(task);
      task.closedAt = Date.now();
      this.counters.tasksWithdrawn++;
    } else if (task.status === 'started') {
      this.close(task, 'aborted');
    }
  }

  private expire(task: Task, error: 'States.Timeout' | 'States.HeartbeatTimeout'): void {
    if (task.status !== 'started') return;
    this.close(task, error === 'States.Timeout' ? 'timedOut' : 'heartbeatTimedOut');
    this.listener.timedOut(task, error);
  }

  private noteSilence(task: Task, now = Date.now()): void {
    const since = task.lastHeartbeatAt ?? task.handedOutAt;
    if (since !== undefined && now - since > (task.maxSilenceMs ?? -1)) {
      task.maxSilenceMs = now - since;
      task.maxSilenceEndedAt = now;
    }
  }

  private close(task: Task, reason: CloseReason): void {
    this.noteSilence(task);
    if (task.status === 'started') this.counters.openClosed(task.activityArn);
    task.status = 'closed';
    task.closeReason = reason;
    task.closedAt = Date.now();
    task.token = undefined;
    clearTimeout(task.timeoutTimer);
    clearTimeout(task.heartbeatTimer);
    this.open.delete(task.id);
    if (task.execution.task === task) task.execution.task = undefined;
    this.counters.close(reason);
  }

  findByHash(hash: string): Task | undefined {
    return this.byHash.get(hash);
  }

  /** Forgets every task (reset/close); tokens issued so far become unknown (TaskDoesNotExist). */
  clear(): void {
    for (const t of this.open.values()) {
      clearTimeout(t.timeoutTimer);
      clearTimeout(t.heartbeatTimer);
    }
    this.open.clear();
    this.byHash.clear();
    this.codec.bumpEpoch();
  }
}
