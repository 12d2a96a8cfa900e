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
export * from './redis-node-process';
export * from './redis-cluster-harness';
export * from './redis-sentinel-harness';
export * from './limit-keys';
export * from './bridge-node-flags';
