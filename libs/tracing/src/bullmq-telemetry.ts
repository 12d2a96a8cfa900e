import type { Telemetry } from 'bullmq';
import { bridgeTracer } from './tracer';
import { TRACER_NAME } from './start-tracing';

/**
 * BullMQ options that turn on its OpenTelemetry integration (`bullmq-otel`) for the bridge's queues,
 * or `{}` with tracing off (BullMQ then calls no telemetry code). With it on, BullMQ writes the
 * trace context of its `add <queue>` span into the task's job (`opts.telemetry.metadata`), so a
 * consumer using bullmq-otel processes inside the task's trace.
 */
export function bullmqTelemetry(): { telemetry?: Telemetry } {
  if (!bridgeTracer()) return {};
  const { BullMQOtel } = require('bullmq-otel') as typeof import('bullmq-otel');
  return { telemetry: new BullMQOtel({ tracerName: TRACER_NAME }) };
}
