/**
 * Whether the environment asks for traces, decided without loading any OpenTelemetry code (with
 * tracing off the bridge must not load the SDK at all). The bridge reads no variable of its own:
 * these are the OpenTelemetry SDK's standard ones, which the SDK itself then reads for the details
 * (endpoint, protocol, service name, sampler, batch sizes...).
 *
 * On when OTEL_SDK_DISABLED is not "true" and either an OTLP endpoint is set
 * (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) or OTEL_TRACES_EXPORTER
 * names an exporter (anything but "none"). Off otherwise: the SDK's own default would be an OTLP
 * exporter to localhost:4318, which a service should not start sending to unasked.
 */
export function tracingRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporters =
    env.OTEL_TRACES_EXPORTER?.split(',')
      .map((e) => e.trim().toLowerCase())
      .filter(Boolean) ?? [];
  if (exporters.length > 0) return !exporters.every((e) => e === 'none');
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
}
