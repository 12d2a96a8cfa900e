export * from './sfn.constants';
export * from './sfn-clients.factory';
export * from './sfn-error-kind';
export * from './throttle-only-retry';
// Temporary (issue 11): backoff and delay moved to @bridge/common; import them from there.
export { fullJitterDelay, sleep as delay } from '@bridge/common';
export type { BackoffPolicy } from '@bridge/common';
export * from './task-token';
export * from './sfn.module';
export * from './task-callbacks.service';
// Temporary: BurstLog moved to @bridge/common as IncidentLog (same constructor, failure(), success()).
export { IncidentLog as BurstLog } from '@bridge/common';
