import { Controller, Get, Header } from '@nestjs/common';
import { Registry } from 'prom-client';
import { BridgeMetrics } from './bridge-metrics.service';

/** `GET /metrics`: every bridge metric in the Prometheus text format (never behind Bull Board's auth). */
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: BridgeMetrics) {}

  @Get()
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  @Header('Cache-Control', 'no-store')
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
