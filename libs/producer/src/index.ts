export * from './task-input';
export * from './task-flow';
export * from './task-producer.service';
export * from './producer.module';
