'use strict';
/**
 * Optional OpenTelemetry for the example consumer, switched on the standard way: set
 * OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_TRACES_EXPORTER) and the SDK reads the rest of OTEL_* itself
 * (OTEL_SERVICE_NAME, OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_TRACES_SAMPLER...). With `bullmq-otel` as the
 * worker's `telemetry`, BullMQ reads the trace context the bridge wrote into each job, so the
 * worker's `process <queue>` span joins the Step Functions task's trace.
 * Needs: npm i @opentelemetry/sdk-node bullmq-otel (both are in this repository's dependencies).
 */

/** @param {NodeJS.ProcessEnv} env */
function tracingRequested(env) {
  if ((env.OTEL_SDK_DISABLED || '').trim().toLowerCase() === 'true') return false;
  const exporters = (env.OTEL_TRACES_EXPORTER || '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  if (exporters.length > 0) return !exporters.every((e) => e === 'none');
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/**
 * Starts the SDK when asked and returns BullMQ's `telemetry` option (or `{}`), plus a flush for shutdown.
 * @returns {{ options: { telemetry?: import('bullmq').Telemetry }, shutdown: () => Promise<void> }}
 */
function startTracing() {
  if (!tracingRequested(process.env)) return { options: {}, shutdown: async () => {} };
  const { NodeSDK } = require('@opentelemetry/sdk-node');
  const { BullMQOtel } = require('bullmq-otel');
  const sdk = new NodeSDK({
    serviceName: process.env.OTEL_SERVICE_NAME ? undefined : 'node-worker',
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  return { options: { telemetry: new BullMQOtel({ tracerName: 'node-worker' }) }, shutdown: () => sdk.shutdown() };
}

module.exports = { startTracing };
