import { DynamicModule, Module } from '@nestjs/common';
import { BridgeConfig } from '@bridge/config';
import { LoggerModule } from 'nestjs-pino';

/** JSON logs (pino). HTTP access logs only at debug level; secrets and tokens redacted. */
@Module({})
export class LoggingModule {
  static forRoot(config: BridgeConfig): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            level: config.log.level,
            autoLogging: config.log.level === 'debug' || config.log.level === 'trace',
            redact: ['req.headers.authorization', 'req.headers.cookie'],
            base: { service: 'sfn-bullmq-bridge', worker: config.workerName },
          },
        }),
      ],
    };
  }
}
