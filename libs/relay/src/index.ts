export * from './outcome';
export * from './relay-retryable.error';
export * from './task-outcome.resolver';
export * from './relay.processor';
export * from './relay.module';
