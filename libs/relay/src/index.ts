export * from './outcome';
export * from './job-end';
export * from './relay-attempt';
export * from './relay.service';
export * from './task-events.reader';
export * from './relay.module';
