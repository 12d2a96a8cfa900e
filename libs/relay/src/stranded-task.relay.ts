import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { StrandedTasks } from '@bridge/heartbeat';
import { RelayService } from './relay.service';

/**
 * A finished job whose task nobody relayed (its event was trimmed before any replica read it, or
 * its relay gave up waiting on Redis), found by a heartbeat: relayed from the job itself.
 */
@Injectable()
export class StrandedTaskRelay implements OnApplicationBootstrap {
  constructor(
    private readonly stranded: StrandedTasks,
    private readonly relay: RelayService,
  ) {}

  onApplicationBootstrap(): void {
    this.stranded.handle(({ queue, jobId }) => this.relay.relay({ queue, jobId, kind: 'found', entryIds: [] }));
  }
}
