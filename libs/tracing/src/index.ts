export * from './bullmq-telemetry';
export * from './span-attributes';
export * from './start-tracing';
export * from './task-spans';
export * from './traced-bindings';
export * from './tracer';
export * from './tracing-switch';
export * from './tracing.module';
