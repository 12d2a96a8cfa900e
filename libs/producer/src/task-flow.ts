import { BindingConfig, BridgeConfig } from '@bridge/config';
import { BridgeQueue, RelayJobData, RelayJobName } from '@bridge/queue';
import { FlowJob } from 'bullmq';

/** How long finished relay jobs stay visible (Bull Board, debugging), and how many. */
const KEEP_COMPLETED = { age: 3_600, count: 5_000 };
/** Failed children are kept a day: the relay reads the stack trace (the error name) from them. */
const KEEP_FAILED = { age: 86_400, count: 50_000 };

/**
 * One task = one BullMQ flow: the relay job (bridge queue, holds the token) is the parent of the
 * consumer's job (binding queue, `data` = task input). The parent waits for the child and, with
 * `ignoreDependencyOnFailure`, also proceeds when the child finally fails; both share one id
 * derived from the token, so a retried enqueue adds nothing twice.
 */
export function buildTaskFlow(
  config: BridgeConfig,
  binding: BindingConfig,
  jobId: string,
  relayData: RelayJobData,
  input: unknown,
): FlowJob {
  const { removeOnComplete, removeOnFail, priority } = binding.jobOptions;
  return {
    name: RelayJobName.Relay,
    queueName: BridgeQueue.Relay,
    data: relayData,
    opts: {
      jobId,
      attempts: config.relay.attempts,
      backoff: { type: 'exponential', delay: config.relay.backoffMs },
      removeOnComplete: KEEP_COMPLETED,
      removeOnFail: KEEP_FAILED,
    },
    children: [
      {
        name: binding.jobName,
        queueName: binding.queue,
        data: input,
        opts: {
          jobId,
          attempts: binding.attempts,
          ...(binding.backoff ? { backoff: binding.backoff } : {}),
          ...(priority !== undefined ? { priority } : {}),
          ignoreDependencyOnFailure: true,
          removeOnComplete: removeOnComplete ?? KEEP_COMPLETED,
          removeOnFail: removeOnFail ?? KEEP_FAILED,
        },
      },
    ],
  };
}
