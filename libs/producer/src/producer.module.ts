import { Module } from '@nestjs/common';
import { HeartbeatScheduleModule } from '@bridge/heartbeat';
import { TaskProducer } from './task-producer.service';

@Module({ imports: [HeartbeatScheduleModule], providers: [TaskProducer], exports: [TaskProducer] })
export class ProducerModule {}
