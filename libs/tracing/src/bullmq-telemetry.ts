import type { Telemetry } from 'bullmq';
import { bridgeTracer } from './tracer';
import { TRACER_NAME } from './start-tracing';

/**
 * BullMQ options that turn on its OpenTelemetry integration (`bullmq-otel`) for the bridge's queues,
 * flow producer and relay worker, or `{}` with tracing off (BullMQ then calls no telemetry code).
 * With it on, BullMQ writes each flow node's trace context into the job (`opts.telemetry.metadata`):
 * the consumer's job carries its `addNode <queue>` span and the relay job its `addNode` span, so a
 * consumer using bullmq-otel, and the relay worker, process inside the task's trace.
 */
export function bullmqTelemetry(): { telemetry?: Telemetry } {
  if (!bridgeTracer()) return {};
  const { BullMQOtel } = require('bullmq-otel') as typeof import('bullmq-otel');
  return { telemetry: new BullMQOtel({ tracerName: TRACER_NAME }) };
}
