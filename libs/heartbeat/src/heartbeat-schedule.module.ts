import { Module } from '@nestjs/common';
import { HeartbeatSchedule } from './heartbeat-schedule.service';

/** The schedule alone: what the producer and the relay need to add and remove outstanding tasks. */
@Module({ providers: [HeartbeatSchedule], exports: [HeartbeatSchedule] })
export class HeartbeatScheduleModule {}
