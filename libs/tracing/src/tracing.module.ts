import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { BRIDGE_CONFIG, BridgeConfig } from '@bridge/config';
import { stopTracing } from './start-tracing';
import { registerTracedBindings } from './traced-bindings';

/**
 * Nest side of tracing: tells the span helpers each binding's activity ARN, and flushes pending
 * spans at shutdown. The SDK itself starts before Nest (apps/bridge/src/tracing.ts).
 */
@Global()
@Module({})
export class TracingModule implements OnApplicationShutdown {
  constructor(@Inject(BRIDGE_CONFIG) config: BridgeConfig) {
    registerTracedBindings(config.bindings);
  }

  async onApplicationShutdown(): Promise<void> {
    await stopTracing();
  }
}
