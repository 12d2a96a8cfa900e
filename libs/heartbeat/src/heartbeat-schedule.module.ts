import { Module } from '@nestjs/common';
import { HeartbeatSchedule } from './heartbeat-schedule.service';
import { StrandedTasks } from './stranded-tasks';

/**
 * The schedule alone: what the producer and the relay need to add and remove outstanding tasks,
 * and where heartbeats hand the relay a finished task nobody relayed.
 */
@Module({ providers: [HeartbeatSchedule, StrandedTasks], exports: [HeartbeatSchedule, StrandedTasks] })
export class HeartbeatScheduleModule {}
