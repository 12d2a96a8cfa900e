import { Module } from '@nestjs/common';
import { ProducerModule } from '@bridge/producer';
import { CapacityGate } from './capacity-gate';
import { PollerService } from './poller.service';
import { SlotReservations } from './slot-reservations.service';

@Module({ imports: [ProducerModule], providers: [SlotReservations, CapacityGate, PollerService], exports: [PollerService, CapacityGate] })
export class PollerModule {}
