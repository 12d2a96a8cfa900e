import { Module } from '@nestjs/common';
import { HeartbeatScheduleModule } from './heartbeat-schedule.module';
import { HeartbeatService } from './heartbeat.service';
import { TaskCanceller } from './task-canceller.service';

/** The heartbeat loop and cancellation (progress arrives through libs/relay's TaskEventsReader). */
@Module({
  imports: [HeartbeatScheduleModule],
  providers: [HeartbeatService, TaskCanceller],
  exports: [HeartbeatService, TaskCanceller],
})
export class HeartbeatModule {}
