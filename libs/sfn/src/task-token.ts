import { createHash } from 'node:crypto';

/** sha256 of a task token, hex: a stable BullMQ job id (no ':' and never an integer). */
export function tokenHash(taskToken: string): string {
  return createHash('sha256').update(taskToken).digest('hex');
}

/** What logs show of a token: the first 12 hex characters of its hash, never the token. */
export function tokenRef(taskToken: string): string {
  return tokenHash(taskToken).slice(0, 12);
}
