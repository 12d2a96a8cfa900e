import { Module } from '@nestjs/common';
import { HeartbeatScheduleModule } from '@bridge/heartbeat';
import { RelayProcessor } from './relay.processor';
import { TaskOutcomeResolver } from './task-outcome.resolver';

@Module({ imports: [HeartbeatScheduleModule], providers: [RelayProcessor, TaskOutcomeResolver] })
export class RelayModule {}
