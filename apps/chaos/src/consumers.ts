import { Job, Worker } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import { RelayOutcomes } from './relay-outcomes';
import { BindingPlan, perform, TaskInput } from './workload';

export interface TaskRuns {
  invocations: number;
  /** Distinct BullMQ job ids that carried this task (more than one = a duplicate job). */
  jobIds: Set<string>;
  /** Runs that started while another run of the same task was still going. */
  overlapping: number;
  running: number;
}

/**
 * The consumers: one ordinary BullMQ worker per binding queue, in this process (the chaos never
 * kills them; it kills the bridge and Redis). They count every run of every task, so a task run
 * more often than its retry schedule says, or carried by two jobs, is seen. Next to them, the sweep
 * of the bridge's task records (RelayOutcomes) keeps how the bridge ended each task.
 */
export class Consumers {
  readonly runs = new Map<string, TaskRuns>();
  readonly jobToTask = new Map<string, string>();
  /** How the bridge ended each task (job id -> closed / reason), from its task records. */
  readonly outcomes: RelayOutcomes;
  private readonly workers: Worker[] = [];
  private readonly connection: Redis | Cluster;
  private readonly outcomesConnection: Redis | Cluster;
  workerErrors = 0;

  /** `connect` opens a BullMQ-ready client that waits through Redis restarts and failovers (errors already handled). */
  constructor(
    connect: () => Redis | Cluster,
    private readonly prefix: string,
  ) {
    this.connection = connect();
    this.outcomesConnection = connect();
    this.outcomes = new RelayOutcomes(this.outcomesConnection, prefix);
  }

  start(plans: { queue: string; plan: BindingPlan }[]): void {
    for (const { queue, plan } of plans) {
      const worker = new Worker(queue, (job: Job<TaskInput>) => this.process(job), {
        connection: this.connection,
        prefix: this.prefix,
        concurrency: plan.concurrency,
      });
      worker.on('error', () => this.workerErrors++);
      this.workers.push(worker);
    }
    this.outcomes.start();
  }

  private async process(job: Job<TaskInput>) {
    const input = job.data;
    let runs = this.runs.get(input.id);
    if (!runs) this.runs.set(input.id, (runs = { invocations: 0, jobIds: new Set(), overlapping: 0, running: 0 }));
    runs.invocations++;
    runs.jobIds.add(job.id!);
    this.jobToTask.set(job.id!, input.id);
    if (runs.running > 0) runs.overlapping++;
    runs.running++;
    try {
      return await perform(input, runs.invocations, (p) => job.updateProgress(p));
    } finally {
      runs.running--;
    }
  }

  async close(): Promise<void> {
    this.outcomes.stop();
    await Promise.allSettled(this.workers.map((w) => w.close(true)));
    this.connection.disconnect();
    this.outcomesConnection.disconnect();
  }
}
