import type { ServerResponse } from 'node:http';
import { SfnError } from './errors';
import { replyJson } from './http-reply';
import type { Counters } from './counters';
import type { Poll, Task } from './model';

export const MAX_PARKED_POLLS = 1000;
const EMPTY = '{}';

/** Parked polls (FIFO by arrival) and tasks waiting for a worker (FIFO by scheduling), per activity ARN. */
class ActivityQueue {
  readonly polls = new Set<Poll>();
  private tasks: Task[] = [];
  private head = 0;
  pending = 0;

  push(task: Task): void {
    this.tasks.push(task);
    this.pending++;
  }

  /** The oldest task still pending (withdrawn ones are skipped and dropped). */
  shift(): Task | undefined {
    while (this.head < this.tasks.length) {
      const t = this.tasks[this.head++];
      if (this.head > 1024 && this.head * 2 > this.tasks.length) {
        this.tasks = this.tasks.slice(this.head);
        this.head = 0;
      }
      if (t.status === 'pending') {
        this.pending--;
        return t;
      }
    }
    return undefined;
  }
}

const clientGone = (res: ServerResponse) => res.destroyed || !res.socket || res.socket.destroyed;

/**
 * Matches long polls with tasks. A poll whose client went away is dropped at once (its `close`
 * event) and is skipped at hand-out time, so a task is only ever written to a live socket.
 */
export class ActivityQueues {
  private readonly queues = new Map<string, ActivityQueue>();

  constructor(
    private readonly counters: Counters,
    /** Marks the task handed out (token, timers, history) and returns the response body. */
    private readonly handOut: (task: Task, workerName: string | undefined) => string,
    private readonly pollMs: () => number,
  ) {}

  private queue(arn: string): ActivityQueue {
    let q = this.queues.get(arn);
    if (!q) this.queues.set(arn, (q = new ActivityQueue()));
    return q;
  }

  /** GetActivityTask: answers now with a pending task, else parks the poll until a task or the hold ends. */
  poll(arn: string, workerName: string | undefined, res: ServerResponse): void {
    if (clientGone(res)) {
      this.counters.pollsAbandoned++;
      return;
    }
    const q = this.queue(arn);
    const task = q.shift();
    if (task) return replyJson(res, 200, this.handOut(task, workerName));
    if (q.polls.size >= MAX_PARKED_POLLS) {
      throw new SfnError(
        'ActivityWorkerLimitExceeded',
        `The maximum number of workers concurrently polling for activity tasks (${MAX_PARKED_POLLS}) has been reached for ${arn}`,
      );
    }
    const ms = this.pollMs();
    const poll: Poll = { res, arn, workerName, done: false };
    q.polls.add(poll);
    poll.timer = setTimeout(() => {
      if (poll.done) return;
      poll.done = true;
      q.polls.delete(poll);
      this.counters.emptyPolls++;
      replyJson(res, 200, EMPTY);
    }, ms);
    res.once('close', () => {
      if (poll.done) return;
      poll.done = true;
      q.polls.delete(poll);
      clearTimeout(poll.timer);
      this.counters.pollsAbandoned++;
    });
  }

  /** A newly scheduled task goes to the oldest live parked poll, else waits in FIFO order. */
  enqueue(task: Task): void {
    const q = this.queue(task.activityArn);
    for (const poll of q.polls) {
      q.polls.delete(poll);
      poll.done = true;
      clearTimeout(poll.timer);
      if (clientGone(poll.res)) {
        this.counters.pollsAbandoned++;
        continue;
      }
      return replyJson(poll.res, 200, this.handOut(task, poll.workerName));
    }
    q.push(task);
  }

  /** A pending task whose execution ended is withdrawn (it stays in the array, skipped by shift). */
  withdraw(task: Task): void {
    const q = this.queues.get(task.activityArn);
    if (q && task.status === 'pending') q.pending--;
    task.status = 'withdrawn';
  }

  /** Answers parked polls empty: for one ARN (activity deleted) or all (shutdown, reset). */
  release(arn?: string): void {
    for (const [key, q] of this.queues) {
      if (arn !== undefined && key !== arn) continue;
      for (const poll of q.polls) {
        poll.done = true;
        clearTimeout(poll.timer);
        replyJson(poll.res, 200, EMPTY);
      }
      q.polls.clear();
    }
  }

  clear(): void {
    this.release();
    this.queues.clear();
  }

  gauges(): { parked: number; parkedByArn: Record<string, number>; pending: number; pendingByArn: Record<string, number> } {
    const g = { parked: 0, parkedByArn: {} as Record<string, number>, pending: 0, pendingByArn: {} as Record<string, number> };
    for (const [arn, q] of this.queues) {
      if (q.polls.size) g.parkedByArn[arn] = q.polls.size;
      if (q.pending) g.pendingByArn[arn] = q.pending;
      g.parked += q.polls.size;
      g.pending += q.pending;
    }
    return g;
  }
}
