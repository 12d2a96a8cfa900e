export * from './heartbeat-keys';
export * from './heartbeat-schedule.service';
export * from './heartbeat.service';
export * from './task-canceller.service';
export * from './progress-listener.service';
export * from './heartbeat-schedule.module';
export * from './heartbeat.module';
export * from './local-heartbeats';
