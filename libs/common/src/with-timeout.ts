/**
 * Bounds a promise in time: for the awaits that must not hang a test, a shutdown or a health check
 * (the promise itself is not cancelled; the caller stops waiting for it).
 */

/** Error thrown by withTimeout: `Timed out after <ms> ms: <what>`. */
export class TimeoutError extends Error {
  constructor(
    readonly ms: number,
    what: string,
  ) {
    super(`Timed out after ${ms} ms: ${what}`);
    this.name = 'TimeoutError';
  }
}

/** Resolves or rejects like `promise`, or rejects with a TimeoutError naming `what` after `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what = 'operation'): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(ms, what)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
