import { Module } from '@nestjs/common';
import { HeartbeatScheduleModule } from './heartbeat-schedule.module';
import { HeartbeatService } from './heartbeat.service';
import { ProgressListener } from './progress-listener.service';
import { TaskCanceller } from './task-canceller.service';

/** The heartbeat loop, progress heartbeats and cancellation. */
@Module({
  imports: [HeartbeatScheduleModule],
  providers: [HeartbeatService, ProgressListener, TaskCanceller],
  exports: [HeartbeatService, TaskCanceller],
})
export class HeartbeatModule {}
