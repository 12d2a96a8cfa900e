/** A relay attempt failed for a reason worth retrying (throttling, 5xx, network). */
export class RelayRetryableError extends Error {
  override readonly name = 'RelayRetryableError';
}
