import { DemoError } from './demo-error';
import { freePort, isPortFree, sleep } from '@bridge/common';

/**
 * `wanted` when given (it must be free: the user asked for it), else `preferred` if free, else any
 * free port. `note` tells why the preferred one was not used.
 */
export async function choosePort(wanted: number | undefined, preferred: number, host?: string): Promise<{ port: number; note?: string }> {
  if (wanted === 0) return { port: await freePort(host) };
  if (wanted !== undefined) {
    if (!(await isPortFree(wanted, host))) throw new DemoError(`port ${wanted} is already in use`);
    return { port: wanted };
  }
  if (await isPortFree(preferred, host)) return { port: preferred };
  const port = await freePort(host);
  return { port, note: `port ${preferred} is in use, using ${port}` };
}

/** Polls `url` until it answers one of `okStatuses`; throws after `timeoutMs` or when `abort()` says so. */
export async function waitForHttp(
  url: string,
  { timeoutMs, okStatuses = [200], abort }: { timeoutMs: number; okStatuses?: number[]; abort?: () => string | undefined },
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    const reason = abort?.();
    if (reason) throw new DemoError(reason);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000), redirect: 'manual' });
      await res.arrayBuffer();
      if (okStatuses.includes(res.status)) return;
      last = `HTTP ${res.status}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await sleep(200);
  }
  throw new DemoError(`${url} did not answer ${okStatuses.join('/')} within ${timeoutMs} ms (last: ${last})`);
}
