import { Module } from '@nestjs/common';
import { ProducerModule } from '@bridge/producer';
import { CapacityGate } from './capacity-gate';
import { PollerService } from './poller.service';

@Module({ imports: [ProducerModule], providers: [CapacityGate, PollerService], exports: [PollerService, CapacityGate] })
export class PollerModule {}
