export * from './task-input';
export * from './task-job';
export * from './task-producer.service';
export * from './producer.module';
