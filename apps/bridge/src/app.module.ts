import { DynamicModule, Module } from '@nestjs/common';
import { BoardModule } from '@bridge/board';
import { BridgeConfig, ConfigModule } from '@bridge/config';
import { HealthModule } from '@bridge/health';
import { HeartbeatModule } from '@bridge/heartbeat';
import { MetricsModule } from '@bridge/metrics';
import { PollerModule } from '@bridge/poller';
import { QueueModule } from '@bridge/queue';
import { RelayModule } from '@bridge/relay';
import { SfnModule } from '@bridge/sfn';
import { LoggingModule } from './logging.module';
import { ShutdownSequence } from './shutdown-sequence';

/**
 * The bridge: poll (PollerModule) -> enqueue (ProducerModule, via the poller) -> consumers
 * (outside) -> relay (RelayModule), watched through Bull Board, /health and /metrics.
 */
@Module({})
export class AppModule {
  static forRoot(config: BridgeConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot(config),
        MetricsModule,
        SfnModule,
        QueueModule.forRoot(config),
        PollerModule,
        RelayModule,
        HeartbeatModule,
        HealthModule,
        BoardModule.forRoot(config),
      ],
      providers: [ShutdownSequence],
    };
  }
}
