/**
 * Ports for child processes started by the demo, the chaos run, the bench and the tests: one way
 * to find a spare one, one way to check a wanted one.
 */
import { createServer } from 'node:net';

/**
 * A port the OS considers free right now on `host`, or on every interface when `host` is
 * undefined (then it is free on loopback too). Bound and released: another process may still take
 * it before the caller does.
 */
export function freePort(host?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ port: 0, host, exclusive: true }, () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Can a server listen on `port` (on `host`, or on every interface when `host` is undefined)? */
export function isPortFree(port: number, host?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}
