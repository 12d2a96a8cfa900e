import { SFNClient } from '@aws-sdk/client-sfn';
import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { BRIDGE_CONFIG, BridgeConfig } from '@bridge/config';
import { createSfnClients, SfnClients } from './sfn-clients.factory';
import { SFN_CALLBACK_CLIENT, SFN_HEARTBEAT_CLIENT, SFN_POLL_CLIENT } from './sfn.constants';
import { TaskCallbacks } from './task-callbacks.service';

const SFN_CLIENTS = Symbol('SFN_CLIENTS');

/** Extra callback sockets beyond relay concurrency, for heartbeats. */
const HEARTBEAT_SOCKETS = 16;

@Global()
@Module({
  providers: [
    {
      provide: SFN_CLIENTS,
      inject: [BRIDGE_CONFIG],
      useFactory: (config: BridgeConfig): SfnClients =>
        createSfnClients({
          region: config.aws.region,
          pollers: config.bindings.reduce((sum, b) => sum + b.pollers, 0),
          callbackSockets: config.relay.concurrency + HEARTBEAT_SOCKETS,
        }),
    },
    { provide: SFN_POLL_CLIENT, inject: [SFN_CLIENTS], useFactory: (c: SfnClients) => c.poll },
    { provide: SFN_CALLBACK_CLIENT, inject: [SFN_CLIENTS], useFactory: (c: SfnClients) => c.callback },
    { provide: SFN_HEARTBEAT_CLIENT, inject: [SFN_CLIENTS], useFactory: (c: SfnClients) => c.heartbeat },
    TaskCallbacks,
  ],
  exports: [SFN_POLL_CLIENT, SFN_CALLBACK_CLIENT, SFN_HEARTBEAT_CLIENT, TaskCallbacks],
})
export class SfnModule implements OnApplicationShutdown {
  constructor(@Inject(SFN_CLIENTS) private readonly clients: SfnClients) {}

  onApplicationShutdown(): void {
    this.clients.poll.destroy();
    this.clients.callback.destroy();
    this.clients.heartbeat.destroy();
  }
}

export type { SFNClient };
