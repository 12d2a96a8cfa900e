import { tokenHash } from '@bridge/sfn';

/**
 * The id of a task's job on its binding queue and of its task record. Derived from the token, so
 * enqueueing the same token twice is a no-op in BullMQ.
 */
export function jobIdForToken(taskToken: string): string {
  return tokenHash(taskToken);
}
