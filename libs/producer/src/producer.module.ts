import { Module } from '@nestjs/common';
import { TaskProducer } from './task-producer.service';

@Module({ providers: [TaskProducer], exports: [TaskProducer] })
export class ProducerModule {}
