export * from './health.constants';
export * from './health.module';
export * from './health.controller';
export * from './event-loop-delay.monitor';
