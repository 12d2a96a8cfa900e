import { Logger } from '@nestjs/common';
import { endAllTaskHeartbeats } from './task-heartbeats';
import { setBridgeTracer } from './tracer';
import { tracingRequested } from './tracing-switch';

/** Instrumentation scope of the bridge's own spans. */
export const TRACER_NAME = 'sfn-bullmq-bridge';

interface Sdk {
  shutdown(): Promise<void>;
}

let sdk: Sdk | undefined;

/**
 * Starts the OpenTelemetry Node SDK when the environment asks for traces (tracing-switch.ts), before
 * the bridge's modules are built. The SDK reads its standard variables itself (OTEL_SERVICE_NAME,
 * OTEL_EXPORTER_OTLP_*, OTEL_TRACES_SAMPLER, OTEL_BSP_*, OTEL_PROPAGATORS...). With tracing off the
 * SDK is not even loaded: the `require`s below run only here, on that branch.
 * Only traces: metrics stay with Prometheus (/metrics), logs with pino.
 */
export function startTracingIfRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  if (sdk || !tracingRequested(env)) return Boolean(sdk);
  const { NodeSDK } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { trace } = require('@opentelemetry/api') as typeof import('@opentelemetry/api');
  const started = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME ? undefined : TRACER_NAME,
    // No metrics or logs pipelines (the SDK would otherwise read OTEL_METRICS_EXPORTER / OTEL_LOGS_EXPORTER).
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [],
  });
  started.start();
  sdk = started;
  setBridgeTracer(trace.getTracer(TRACER_NAME, process.env.npm_package_version));
  new Logger('Tracing').log('OpenTelemetry tracing on (the SDK reads OTEL_* for exporter, endpoint, sampler)');
  return true;
}

/** Flushes and stops the SDK (pending spans are exported); a no-op with tracing off. */
export async function stopTracing(): Promise<void> {
  const running = sdk;
  sdk = undefined;
  // Tasks still waiting: their heartbeat spans end now, so the flush below exports them.
  endAllTaskHeartbeats();
  setBridgeTracer(undefined);
  if (!running) return;
  try {
    await running.shutdown();
  } catch (err) {
    new Logger('Tracing').warn(`Flushing spans at shutdown failed: ${(err as Error).message}`);
  }
}
