import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import type { QueueAdapterOptions } from '@bull-board/api/typings/app';
import { Queue } from 'bullmq';

/** Shows a task token in Bull Board as its first and last characters only. */
export function maskTaskToken(data: unknown): unknown {
  if (!data || typeof data !== 'object' || !('taskToken' in data)) return data;
  const token = String((data as { taskToken: unknown }).taskToken);
  return { ...data, taskToken: `${token.slice(0, 6)}…(${token.length} chars)` };
}

/** Bull Board adapter for the relay queue: never displays whole task tokens. */
export class RelayQueueAdapter extends BullMQAdapter {
  constructor(queue: Queue, options?: Partial<QueueAdapterOptions>) {
    super(queue, { readOnlyMode: true, description: 'Relay jobs: hold task tokens, send results to Step Functions', ...options });
    this.setFormatter('data', maskTaskToken);
  }
}
