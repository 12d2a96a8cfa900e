import { Module } from '@nestjs/common';
import { HeartbeatScheduleModule } from '@bridge/heartbeat';
import { RelayService } from './relay.service';
import { StrandedTaskRelay } from './stranded-task.relay';
import { TaskEventsReader } from './task-events.reader';

/** Job ends (event streams, or a heartbeat's find) -> SendTaskSuccess / SendTaskFailure, once. */
@Module({
  imports: [HeartbeatScheduleModule],
  providers: [RelayService, TaskEventsReader, StrandedTaskRelay],
  exports: [RelayService, TaskEventsReader],
})
export class RelayModule {}
