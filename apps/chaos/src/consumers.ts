import { Job, QueueEvents, Worker } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
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
 * more often than its retry schedule says, or carried by two jobs, is seen.
 */
export class Consumers {
  readonly runs = new Map<string, TaskRuns>();
  readonly jobToTask = new Map<string, string>();
  /** Relay job outcomes seen on the relay queue's event stream: jobId -> return values. */
  readonly relayResults = new Map<string, string[]>();
  private readonly workers: Worker[] = [];
  private events?: QueueEvents;
  private eventsConnection?: Redis | Cluster;
  private readonly connection: Redis | Cluster;
  workerErrors = 0;

  /** `connect` opens a BullMQ-ready client that waits through Redis restarts and failovers (errors already handled). */
  constructor(
    private readonly connect: () => Redis | Cluster,
    private readonly prefix: string,
  ) {
    this.connection = connect();
  }

  start(plans: { queue: string; plan: BindingPlan }[], relayQueue: string): void {
    for (const { queue, plan } of plans) {
      const worker = new Worker(queue, (job: Job<TaskInput>) => this.process(job), {
        connection: this.connection,
        prefix: this.prefix,
        concurrency: plan.concurrency,
      });
      worker.on('error', () => this.workerErrors++);
      this.workers.push(worker);
    }
    this.eventsConnection = this.connect();
    this.events = new QueueEvents(relayQueue, { connection: this.eventsConnection, prefix: this.prefix });
    this.events.on('error', () => undefined);
    this.events.on('completed', ({ jobId, returnvalue }) => {
      const list = this.relayResults.get(jobId) ?? [];
      list.push(typeof returnvalue === 'string' ? returnvalue : JSON.stringify(returnvalue));
      this.relayResults.set(jobId, list);
    });
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
    await Promise.allSettled(this.workers.map((w) => w.close(true)));
    await this.events?.close().catch(() => undefined);
    this.connection.disconnect();
    this.eventsConnection?.disconnect();
  }
}
