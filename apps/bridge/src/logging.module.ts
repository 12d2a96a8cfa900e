import { DynamicModule, Module } from '@nestjs/common';
import { BridgeConfig } from '@bridge/config';
import { LoggerModule } from 'nestjs-pino';
import { stdTimeFunctions } from 'pino';

/**
 * JSON logs, one line per event (pino via nestjs-pino), at `LOG_LEVEL`. HTTP access logs only at
 * debug/trace. Task tokens never reach a log line whole: the code logs `tokenRef(token)` (a short
 * hash) only; task input and output are not logged (LOG_PAYLOADS gates any such debug log).
 * Credentials in request headers are redacted.
 */
@Module({})
export class LoggingModule {
  static forRoot(config: BridgeConfig): DynamicModule {
    const verbose = config.log.level === 'debug' || config.log.level === 'trace';
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            level: config.log.level,
            autoLogging: verbose,
            // Request-scoped log lines carry only the request id, not the whole request again.
            quietReqLogger: true,
            redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'], censor: '[redacted]' },
            base: { service: 'sfn-bullmq-bridge', worker: config.workerName },
            timestamp: stdTimeFunctions.isoTime,
            formatters: { level: (label) => ({ level: label }) },
          },
        }),
      ],
    };
  }
}
