import { BRIDGE_NAMESPACE } from '@bridge/config';

/**
 * The bridge's record of one taken task: a Redis hash `<prefix>:sfn-bridge:task:<job id>` written
 * with the task's job (same socket write), read by heartbeats and the relay, closed by the relay
 * (or by a cancellation) and then kept a while as a tombstone without the token. It is the one
 * owner of a task's relay state: who is relaying it (`owner`, `lease`), how many relay attempts
 * started (`attempts`), and how it ended (`closed`). The token lives here, never in the consumer's
 * job. docs/design.md section 1 ("Relay") says why a record and not a second BullMQ job.
 */

/** What the producer writes: the task, as heartbeats and the relay need it. */
export interface TaskRecord {
  /** The Step Functions task token. Never logged whole. */
  taskToken: string;
  /** Binding name (the activity name): metrics label and config lookup. */
  binding: string;
  /** The binding queue holding the task's job (same id as the record). */
  queue: string;
  /** ms since epoch when GetActivityTask returned the token (Step Functions' clocks start here). */
  receivedAt: number;
  /** W3C trace context of the task's trace (tracing on only), so any replica's spans join it. */
  trace?: string;
}

/** Hash field names of a task record (short: one record per outstanding task). */
export const TaskField = {
  Token: 'token',
  Binding: 'binding',
  Queue: 'queue',
  ReceivedAt: 'receivedAt',
  Trace: 'trace',
  /** Relay attempts started (the claim script counts them); > 1 means an earlier one may have sent. */
  Attempts: 'attempts',
  /** ms since epoch until which `owner` holds the relay (a replica that dies loses it then). */
  Lease: 'lease',
  /** The replica relaying the task. */
  Owner: 'owner',
  /** How the task ended (a RelayResult status); set once, the token is then removed. */
  Closed: 'closed',
  /** Why: `success`, the relayed error name, or the AWS error / reason that ended it. */
  Reason: 'reason',
  /** Redis time (ms) a heartbeat first found the task's job gone (removed before it was relayed). */
  Gone: 'gone',
  /** How the job ended, as the first relay claim that knew heard it (`completed`, `failed`, `removed`); kept until the close. */
  End: 'end',
  /** With `end`: the return value (JSON) or the failed reason. */
  Value: 'value',
} as const;

/**
 * How a task closed:
 * - `relayed`: SendTaskSuccess / SendTaskFailure was accepted.
 * - `expired`: the first send was answered "task gone" (it timed out or was stopped before).
 * - `recovered`: an earlier attempt may have sent (its replica died, or its answer was lost);
 *   a SendTaskHeartbeat probe found the task closed, so nothing was sent again.
 * - `cancelled`: the execution was gone before the job finished (a heartbeat was answered "task
 *   gone"), or the task was failed with Bridge.EnqueueFailed before a late write landed.
 * - `abandoned`: every relay attempt failed on transient errors; Step Functions times it out.
 */
export type RelayStatus = 'relayed' | 'expired' | 'recovered' | 'cancelled' | 'abandoned';

export type RelayResult =
  | { status: 'relayed'; outcome: 'success' | 'failure'; error?: string }
  | { status: 'expired' | 'recovered' | 'cancelled' | 'abandoned'; reason: string };

/** The consumer group every replica reads the binding queues' BullMQ event streams in. */
export const RELAY_GROUP = 'sfn-bridge';

/** Keys of a task under the BullMQ prefix (one hash slot on a Cluster: the prefix holds the tag). */
export class TaskKeys {
  constructor(readonly prefix: string) {}

  /** The task record (hash). */
  record(jobId: string): string {
    return `${this.prefix}:${BRIDGE_NAMESPACE}:task:${jobId}`;
  }

  /** BullMQ's hash of the task's job on its binding queue. */
  job(queue: string, jobId: string): string {
    return `${this.prefix}:${queue}:${jobId}`;
  }

  /** BullMQ's event stream of a binding queue. */
  events(queue: string): string {
    return `${this.prefix}:${queue}:events`;
  }
}
