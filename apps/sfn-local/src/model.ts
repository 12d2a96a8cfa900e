import type { ServerResponse } from 'node:http';
import type { Definition, TaskState } from './definition';
import type { HistoryEvent } from './history';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
export type TaskStatus = 'pending' | 'started' | 'closed' | 'withdrawn';
export type CloseReason = 'succeeded' | 'failed' | 'timedOut' | 'heartbeatTimedOut' | 'aborted';

export interface Activity {
  arn: string;
  name: string;
  creationDate: number;
}

export interface StateMachine {
  arn: string;
  name: string;
  definitionText: string;
  definition: Definition;
  roleArn: string;
  type: 'STANDARD';
  creationDate: number;
  executions: Set<Execution>;
}

export interface Task {
  id: number;
  activityArn: string;
  execution: Execution;
  state: TaskState;
  input: string;
  status: TaskStatus;
  token?: string;
  tokenHash?: string;
  workerName?: string;
  scheduledAt: number;
  handedOutAt?: number;
  closedAt?: number;
  closeReason?: CloseReason;
  lastHeartbeatAt?: number;
  /** Longest time (ms) the task went without a heartbeat while open (hand-out to first, between, last to close). */
  maxSilenceMs?: number;
  /** When (epoch ms) that longest silence ended. */
  maxSilenceEndedAt?: number;
  /** SendTaskSuccess/SendTaskFailure calls that reached the task after a result had closed it. */
  secondResults?: number;
  /** When (epoch ms) each second result arrived. */
  secondResultAt?: number[];
  timeoutTimer?: NodeJS.Timeout;
  heartbeatTimer?: NodeJS.Timeout;
}

export interface Execution {
  arn: string;
  name: string;
  stateMachine: StateMachine;
  status: ExecutionStatus;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
  startDate: number;
  stopDate?: number;
  history: HistoryEvent[];
  /** The task of the current Task state, if one is scheduled or open. */
  task?: Task;
  /** Every task this execution scheduled (for the per-task timestamp hooks). */
  tasks: Task[];
  /** Retry attempts per retrier index in the current Task state. */
  retries: number[];
  retryTimer?: NodeJS.Timeout;
  timeoutTimer?: NodeJS.Timeout;
}

export interface Poll {
  res: ServerResponse;
  arn: string;
  workerName?: string;
  timer?: NodeJS.Timeout;
  done: boolean;
}
