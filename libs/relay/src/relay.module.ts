import { Module } from '@nestjs/common';
import { RelayProcessor } from './relay.processor';
import { TaskOutcomeResolver } from './task-outcome.resolver';

@Module({ providers: [RelayProcessor, TaskOutcomeResolver] })
export class RelayModule {}
