import { tokenHash } from '@bridge/sfn';

/**
 * The id of both jobs of a task's flow (relay parent and consumer child, in different queues).
 * Derived from the token, so enqueueing the same token twice is a no-op in BullMQ.
 */
export function jobIdForToken(taskToken: string): string {
  return tokenHash(taskToken);
}
