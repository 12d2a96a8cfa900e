import { Injectable, Logger } from '@nestjs/common';

export interface StrandedTask {
  queue: string;
  jobId: string;
}

/**
 * Where the heartbeat pass hands a task it found finished but not relayed (libs/relay relays it).
 * The heartbeat visits every open task each interval, so it is the sweep that catches a job end
 * no replica heard; a hand-over point keeps libs/heartbeat from importing libs/relay (which imports it).
 */
@Injectable()
export class StrandedTasks {
  private readonly logger = new Logger(StrandedTasks.name);
  private handler?: (task: StrandedTask) => unknown;

  handle(handler: (task: StrandedTask) => unknown): void {
    this.handler = handler;
  }

  report(task: StrandedTask): void {
    if (!this.handler) return;
    this.logger.warn(`Job ${task.jobId.slice(0, 12)} on ${task.queue} finished with no relay heard of it; relaying it from the job`);
    this.handler(task);
  }
}
