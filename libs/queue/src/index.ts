export * from './queue.constants';
export * from './relay-job.types';
export * from './job-id';
export * from './redis-connection';
export * from './redis-connection-group';
export * from './queue.module';
export * from './redis-status.service';
export * from './redis-error-log.service';
