import type { Tracer } from '@opentelemetry/api';

/**
 * The bridge's tracer, set only when tracing was switched on at start-up (start-tracing.ts). Every
 * hook on the task path checks it first and does nothing else when it is unset, so with tracing
 * off no OpenTelemetry code runs per task.
 */
let current: Tracer | undefined;

export function bridgeTracer(): Tracer | undefined {
  return current;
}

export function setBridgeTracer(tracer: Tracer | undefined): void {
  current = tracer;
}
