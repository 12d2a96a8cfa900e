import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { BridgeConfig } from './config.types';
import { BRIDGE_CONFIG } from './config.tokens';
import { loadConfig } from './load-config';

/**
 * Global module providing `BRIDGE_CONFIG`. `forRoot(config)` uses the given config (main.ts loads
 * it first so that a `ConfigError` can be printed and exit 1 before Nest starts; tests pass their
 * own); `forRoot()` calls `loadConfig()` when the module is instantiated.
 */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config?: BridgeConfig): DynamicModule {
    return {
      module: ConfigModule,
      global: true,
      providers: [config ? { provide: BRIDGE_CONFIG, useValue: config } : { provide: BRIDGE_CONFIG, useFactory: () => loadConfig() }],
      exports: [BRIDGE_CONFIG],
    };
  }
}
