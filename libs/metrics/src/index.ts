export * from './bridge-metrics.service';
export * from './metrics.module';
