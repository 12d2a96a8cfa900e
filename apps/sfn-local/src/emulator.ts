import type { ServerResponse } from 'node:http';
import type { Account } from './arns';
import { ActivityQueues } from './activity-queues';
import * as activities from './activities';
import { Counters, SfnLocalCounters } from './counters';
import * as executions from './executions';
import { Faults } from './faults';
import { Interpreter } from './interpreter';
import type { Activity, Execution, StateMachine } from './model';
import * as stateMachines from './state-machines';
import * as taskActions from './task-actions';
import { Tasks } from './tasks';

type Body = Record<string, unknown>;
/** An action answers with a JSON-able object, or `undefined` when it replies itself later (long poll). */
export type Action = (emu: Emulator, body: Body, res: ServerResponse) => object | undefined;

export const ACTIONS: Record<string, Action> = {
  CreateActivity: activities.createActivity,
  DescribeActivity: activities.describeActivity,
  ListActivities: activities.listActivities,
  DeleteActivity: activities.deleteActivity,
  GetActivityTask: activities.getActivityTask,
  SendTaskSuccess: taskActions.sendTaskSuccess,
  SendTaskFailure: taskActions.sendTaskFailure,
  SendTaskHeartbeat: taskActions.sendTaskHeartbeat,
  CreateStateMachine: stateMachines.createStateMachine,
  DescribeStateMachine: stateMachines.describeStateMachine,
  ListStateMachines: stateMachines.listStateMachines,
  DeleteStateMachine: stateMachines.deleteStateMachine,
  StartExecution: executions.startExecution,
  DescribeExecution: executions.describeExecution,
  StopExecution: executions.stopExecution,
  ListExecutions: executions.listExecutions,
  GetExecutionHistory: executions.getExecutionHistory,
};

export interface EmulatorOptions extends Account {
  pollSeconds: number;
  /** Finished executions kept for Describe/History/List (oldest forgotten first). */
  retainExecutions: number;
}

/** All emulator state; the HTTP layer only parses, dispatches and replies. */
export class Emulator {
  readonly account: Account;
  pollSeconds: number;
  readonly counters = new Counters();
  readonly faults = new Faults();
  readonly tasks = new Tasks(this.counters);
  readonly queues: ActivityQueues;
  readonly interpreter: Interpreter;
  readonly activities = new Map<string, Activity>();
  readonly stateMachines = new Map<string, StateMachine>();
  readonly executions = new Map<string, Execution>();
  private finished: Execution[] = [];
  private finishedHead = 0;

  constructor(private readonly opts: EmulatorOptions) {
    this.account = { region: opts.region, accountId: opts.accountId };
    this.pollSeconds = opts.pollSeconds;
    this.queues = new ActivityQueues(this.counters, this.tasks.handOut, () => this.pollSeconds * 1000);
    this.interpreter = new Interpreter(
      this.tasks,
      (arn) => this.activities.has(arn),
      (e) => this.onEnd(e),
    );
    this.tasks.queues = this.queues;
    this.tasks.listener = this.interpreter;
  }

  private onEnd(exec: Execution): void {
    this.finished.push(exec);
    while (this.finished.length - this.finishedHead > this.opts.retainExecutions) {
      const old = this.finished[this.finishedHead++];
      this.executions.delete(old.arn);
      old.stateMachine.executions.delete(old);
    }
    if (this.finishedHead > 4096) {
      this.finished = this.finished.slice(this.finishedHead);
      this.finishedHead = 0;
    }
  }

  counterSnapshot(): SfnLocalCounters {
    const g = this.queues.gauges();
    return {
      ...this.counters.snapshot(),
      parkedPolls: g.parked,
      parkedPollsByArn: g.parkedByArn,
      pendingTasks: g.pending,
      pendingTasksByArn: g.pendingByArn,
      openTasks: this.tasks.openCount,
    };
  }

  resetCounters(): void {
    Object.assign(this.counters, new Counters());
  }

  /** Forgets all resources, executions and tasks (issued tokens become unknown), faults and counters. */
  reset(): void {
    this.shutdown();
    this.activities.clear();
    this.stateMachines.clear();
    this.executions.clear();
    this.finished = [];
    this.finishedHead = 0;
    this.faults.clear();
    this.resetCounters();
  }

  /** Answers parked polls empty and clears every timer. */
  shutdown(): void {
    this.queues.clear();
    for (const e of this.executions.values()) this.interpreter.dispose(e);
    this.tasks.clear();
  }
}
