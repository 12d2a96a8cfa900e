export * from './health.constants';
export * from './health.module';
export * from './health.controller';
export * from './redis-connection.monitor';
export * from './event-loop-delay.monitor';
