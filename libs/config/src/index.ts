export { ConfigError } from './config.error';
export { ConfigModule } from './config.module';
export { BRIDGE_CONFIG } from './config.tokens';
export type { BackoffConfig, BindingConfig, BridgeConfig, JobOptionsConfig, LogLevel } from './config.types';
export { defaultWorkerName, loadConfig } from './load-config';
export { parseBindingsFile, BRIDGE_NAMESPACE } from './parse-bindings-file';
export { redactUrl } from './redact-url';
export { describeRedisTarget, hashTagOf } from './redis-target';
export type { RedisAuth, RedisNodeAddress, RedisTarget } from './redis-target';
