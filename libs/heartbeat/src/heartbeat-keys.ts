/** Redis keys of the heartbeat schedule, under the BullMQ prefix (so a prefix owns all its state). */
export class HeartbeatKeys {
  constructor(private readonly prefix: string) {}

  /** Sorted set: member = job id (sha256 of the token), score = next heartbeat due (ms). */
  get schedule(): string {
    return `${this.prefix}:sfn-bridge:heartbeats`;
  }

  /** Hash {tokens, ts}: the global heartbeat token bucket shared by every replica. */
  get bucket(): string {
    return `${this.prefix}:sfn-bridge:heartbeat-bucket`;
  }

  /** Set (with expiry) while a consumer's progress recently triggered a heartbeat. */
  progress(jobId: string): string {
    return `${this.prefix}:sfn-bridge:progress:${jobId}`;
  }

  /**
   * Exists while the task of job `jobId` is cancelled (its execution stopped or timed out).
   * Documented for consumers: a long-running job may check `EXISTS <prefix>:sfn-bridge:cancelled:<job.id>`.
   */
  cancelled(jobId: string): string {
    return `${this.prefix}:sfn-bridge:cancelled:${jobId}`;
  }
}
