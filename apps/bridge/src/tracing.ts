/**
 * Imported first by main.ts (right after reflect-metadata): starts OpenTelemetry tracing before any
 * other bridge module is loaded, when the standard OTEL_* variables ask for it (see
 * libs/tracing/src/tracing-switch.ts). With tracing off this loads no SDK code.
 */
import { startTracingIfRequested } from '@bridge/tracing';

startTracingIfRequested();
