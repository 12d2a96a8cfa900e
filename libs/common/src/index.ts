// Shared process and timing helpers for apps, libs, tests and bench (apps must not import test code).
// Each helper adds its own files and export lines here.
export * from './backoff';
export * from './sleep';
export * from './with-timeout';
export * from './free-port';
export * from './managed-child';
export * from './private-redis';
export * from './ensure-redis';
export * from './incident-log';
export * from './limit-keys';
