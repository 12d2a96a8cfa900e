import { BindingConfig } from '@bridge/config';
import { JobsOptions } from 'bullmq';

/** How long finished jobs stay visible (Bull Board, debugging), and how many. */
const KEEP_COMPLETED = { age: 3_600, count: 5_000 };
/**
 * Failed jobs are kept a day: the relay reads the stack trace (the error name) from a failed job,
 * and a task whose `failed` event was missed is relayed from the job itself.
 */
const KEEP_FAILED = { age: 86_400, count: 50_000 };

/**
 * One task = one ordinary BullMQ job on the binding's queue: `data` is the task input, never the
 * token (that is in the task record). The id derives from the token, so a retried write adds
 * nothing twice. The binding's attempts, backoff and job options apply as to any job.
 */
export function taskJobOptions(binding: BindingConfig, jobId: string): JobsOptions {
  const { removeOnComplete, removeOnFail, priority } = binding.jobOptions;
  return {
    jobId,
    attempts: binding.attempts,
    ...(binding.backoff ? { backoff: binding.backoff } : {}),
    ...(priority !== undefined ? { priority } : {}),
    removeOnComplete: removeOnComplete ?? KEEP_COMPLETED,
    removeOnFail: removeOnFail ?? KEEP_FAILED,
  };
}
