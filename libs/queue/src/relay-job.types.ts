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
}

/** Return value of a relay job: what became of the task. */
export type RelayResult =
  | { status: 'relayed'; outcome: 'success' | 'failure'; error?: string }
  | { status: 'expired'; reason: string }
  | { status: 'cancelled'; reason: string };
