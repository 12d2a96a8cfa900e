/** `data` of a relay (parent) job. The token lives here, never in the consumer's child job. */
export interface RelayJobData {
  /** The Step Functions task token. Never logged; Bull Board shows it masked. */
  taskToken: string;
  /** Binding name (the activity name): metrics label and config lookup. */
  binding: string;
  /** The binding queue holding the child job (its id equals the relay job's id). */
  queue: string;
  /** ms since epoch when GetActivityTask returned the token (Step Functions' clocks start here). */
  receivedAt: number;
  /**
   * Set by TaskCanceller when Step Functions answered a heartbeat with "task gone" (execution
   * stopped or timed out): the reason. A cancelled relay job closes without sending anything.
   */
  cancelled?: string;
}

/**
 * Return value of a relay job: what became of the task.
 * - `relayed`: this attempt's SendTaskSuccess/SendTaskFailure was accepted.
 * - `expired`: the first send was answered "task gone" (it timed out or was stopped before).
 * - `recovered`: an earlier attempt may have sent (it was retried, stalled or its replica died);
 *   a SendTaskHeartbeat probe found the task closed, so nothing was sent again.
 * - `cancelled`: the execution was gone before the job finished (see `RelayJobData.cancelled`).
 */
export type RelayResult =
  | { status: 'relayed'; outcome: 'success' | 'failure'; error?: string }
  | { status: 'expired'; reason: string }
  | { status: 'recovered'; reason: string }
  | { status: 'cancelled'; reason: string };
