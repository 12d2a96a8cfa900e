export * from './sfn.constants';
export * from './sfn-clients.factory';
export * from './sfn-error-kind';
export * from './backoff';
export * from './throttle-only-retry';
export * from './task-token';
export * from './sfn.module';
export * from './task-callbacks.service';
// Temporary: BurstLog moved to @bridge/common as IncidentLog (same constructor, failure(), success()).
export { IncidentLog as BurstLog } from '@bridge/common';
