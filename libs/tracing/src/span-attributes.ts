/**
 * Span attribute names. `messaging.*` and `error.type` follow the OpenTelemetry semantic
 * conventions (messaging spans, v1.27+: operation types receive / send / process / settle); the
 * Step Functions and bridge ones have no convention and are namespaced. Never a task token nor a
 * payload: the job id (sha256 of the token) identifies the task.
 */
export const Attr = {
  System: 'messaging.system',
  OperationType: 'messaging.operation.type',
  OperationName: 'messaging.operation.name',
  Destination: 'messaging.destination.name',
  MessageId: 'messaging.message.id',
  ErrorType: 'error.type',
  ActivityArn: 'aws.stepfunctions.activity.arn',
  Binding: 'sfn_bridge.binding',
  Queue: 'sfn_bridge.queue',
  /** The failure relayed to Step Functions (the consumer's error name, or a Bridge.* error). */
  TaskError: 'sfn_bridge.task.error',
  /** What a relay came to: relayed, expired, recovered, abandoned (retry: it will be tried again). */
  RelayStatus: 'sfn_bridge.relay.status',
  HeartbeatResult: 'sfn_bridge.heartbeat.result',
  /** What made a heartbeat go out: schedule (the binding's interval), progress (the consumer's), relay-probe. */
  HeartbeatTrigger: 'sfn_bridge.heartbeat.trigger',
  /** On a `heartbeats` span that continues a full one of the same task on this replica. */
  HeartbeatsContinued: 'sfn_bridge.heartbeats.continued',
} as const;

/** `messaging.system` of Step Functions activity calls (not in the conventions' list). */
export const SFN_SYSTEM = 'aws_stepfunctions';
/** `messaging.system` of the enqueue (BullMQ's own spans carry their own attributes). */
export const BULLMQ_SYSTEM = 'bullmq';

/** The activity's name: the last segment of its ARN (arn:aws:states:region:account:activity:NAME). */
export function activityName(activityArn: string): string {
  return activityArn.slice(activityArn.lastIndexOf(':') + 1);
}
