export * from './redis-node-process';
export * from './redis-cluster-harness';
export * from './redis-sentinel-harness';
