import { Global, Module } from '@nestjs/common';
import { BridgeMetrics } from './bridge-metrics.service';
import { MetricsController } from './metrics.controller';

/** Provides `BridgeMetrics` everywhere and serves it at `GET /metrics`. */
@Global()
@Module({ providers: [BridgeMetrics], controllers: [MetricsController], exports: [BridgeMetrics] })
export class MetricsModule {}
