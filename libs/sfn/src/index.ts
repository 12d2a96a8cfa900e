export * from './call-abort';
export * from './sfn.constants';
export * from './sfn-clients.factory';
export * from './sfn-error-kind';
export * from './throttle-only-retry';
export * from './task-token';
export * from './sfn.module';
export * from './task-callbacks.service';
