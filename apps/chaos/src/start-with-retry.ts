import { ManagedChild, sleep } from '@bridge/common';

/** Starts `c` again after a chaos action (a bridge, or the single Redis); up to 3 attempts, 1 s apart. */
export async function startWithRetry(c: ManagedChild, log: (line: string) => void): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await c.start();
    } catch (err) {
      if (attempt >= 3) throw err;
      log(`chaos: restart of ${c.spec.name} failed (${(err as Error).message.split('\n')[0]}); retrying`);
      await sleep(1_000);
    }
  }
}
