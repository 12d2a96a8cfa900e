import { INestApplication, Logger } from '@nestjs/common';

/** Closing workers and connections after the drain gets this long before the process exits anyway. */
export const SHUTDOWN_GRACE_MS = 4_000;

/**
 * SIGTERM / SIGINT: close the app (ShutdownSequence drains the polls first, then every module
 * closes) and exit 0. Whatever is down, the process exits within SHUTDOWN_DRAIN_TIMEOUT_MS +
 * SHUTDOWN_GRACE_MS: if a close still hangs then, it logs that and exits 1, because an orchestrator
 * would SIGKILL it a little later anyway, and a process that never exits holds its tokens forever.
 * (Nest's own `enableShutdownHooks` waits for the hooks without any bound.)
 */
export function closeOnSignals(app: INestApplication, drainTimeoutMs: number): void {
  const logger = new Logger('Shutdown');
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) {
      logger.warn(`${signal} again: still shutting down`);
      return;
    }
    closing = true;
    const deadlineMs = drainTimeoutMs + SHUTDOWN_GRACE_MS;
    logger.log(`${signal}: shutting down (parked polls drain for up to ${drainTimeoutMs} ms, exit within ${deadlineMs} ms)`);
    const startedAt = Date.now();
    const watchdog = setTimeout(() => {
      logger.error(`Shutdown did not finish within ${deadlineMs} ms; exiting anyway`);
      process.exit(1);
    }, deadlineMs);
    watchdog.unref();
    app.close().then(
      () => {
        logger.log(`Shut down in ${Date.now() - startedAt} ms`);
        process.exit(0);
      },
      (err: unknown) => {
        logger.error(`Shutdown failed after ${Date.now() - startedAt} ms: ${(err as Error)?.message ?? String(err)}`);
        process.exit(1);
      },
    );
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, onSignal);
}
