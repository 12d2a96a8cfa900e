import { Global, Module } from '@nestjs/common';
import { BridgeMetrics } from './bridge-metrics.service';

@Global()
@Module({ providers: [BridgeMetrics], exports: [BridgeMetrics] })
export class MetricsModule {}
