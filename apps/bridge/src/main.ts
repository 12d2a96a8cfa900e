import 'reflect-metadata';
import { Logger as NestLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { BridgeConfig, ConfigError, describeRedisTarget, loadConfig, redactUrl } from '@bridge/config';
import type { AddressInfo } from 'node:net';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { closeOnSignals } from './close-on-signals';

/**
 * All interfaces, IPv4: in a container the probes and Prometheus come from outside the loopback.
 * (`app.listen(port)` without a host binds Node's default, `::`, which is IPv4 too only where
 * dual-stack sockets are available.)
 */
const HOST = '0.0.0.0';

function configOrExit(): BridgeConfig {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`sfn-bullmq-bridge: invalid configuration\n${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

async function bootstrap(): Promise<void> {
  const config = configOrExit();
  const app = await NestFactory.create(AppModule.forRoot(config), { bufferLogs: true });
  app.useLogger(app.get(Logger));
  // After a graceful shutdown (polls drained, workers and connections closed) exit 0, and exit
  // within SHUTDOWN_DRAIN_TIMEOUT_MS + 4 s whatever is down.
  closeOnSignals(app, config.shutdown.drainTimeoutMs);
  await app.listen(config.port, HOST);
  const port = (app.getHttpServer().address() as AddressInfo).port;
  new NestLogger('Bridge').log(
    `Listening on ${HOST}:${port}; Redis ${describeRedisTarget(config.redis)} prefix "${config.redis.prefix}"; ` +
      `${config.bindings.length} binding(s)${config.aws.endpoint ? `; Step Functions at ${redactUrl(config.aws.endpoint)}` : ''}`,
  );
}

bootstrap().catch((err: unknown) => {
  process.stderr.write(`sfn-bullmq-bridge: failed to start: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
