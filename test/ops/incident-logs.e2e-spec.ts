import { SFNClient } from '@aws-sdk/client-sfn';
import { SfnLocal, startSfnLocal } from '../../apps/sfn-local/src';
import { BridgeProcess, bridgeEnv, spawnBridge } from '../support/bridge';
import { cleanupPrefix, uniquePrefix } from '../support/redis';
import { createActivityMachine, testSfnClient } from '../support/sfn';
import { within } from '../support/wait-for';
import { freePort } from '@bridge/common';

/**
 * Logs during an incident read as an incident (IncidentLog): a line when it starts, a summary at
 * most once a minute, a line when it ends, not a line per failed call. Each scenario runs for the
 * 60 s the issue names, both at once, against the built bridge.
 */

const RUN_MS = 60_000;

interface LogLine {
  level: string;
  context?: string;
  msg: string;
}

function linesAfterStart(bridge: BridgeProcess): LogLine[] {
  const all = bridge
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
  const listening = all.findIndex((l) => l.msg.startsWith('Listening on'));
  const shutdown = all.findIndex((l) => l.context === 'Shutdown');
  return all.slice(listening + 1, shutdown === -1 ? undefined : shutdown);
}

async function stop(bridge: BridgeProcess): Promise<void> {
  bridge.child.kill('SIGTERM');
  await within(bridge.exited, 20_000, `bridge to exit\n${bridge.output().slice(-2000)}`);
}

describe('logs during an incident', () => {
  let sfnLocal: SfnLocal;
  let sfn: SFNClient;
  const prefixes: string[] = [];
  const bridges: BridgeProcess[] = [];

  beforeAll(async () => {
    sfnLocal = await startSfnLocal({ pollSeconds: 1, quiet: true });
    sfn = testSfnClient(sfnLocal.url);
  });

  afterAll(async () => {
    for (const b of bridges) if (b.child.exitCode === null && b.child.signalCode === null) b.child.kill('SIGKILL');
    await sfnLocal?.close();
    sfn?.destroy();
    for (const p of prefixes) await cleanupPrefix(p);
  });

  function spawn(
    prefixLabel: string,
    bindings: { activityArn: string; queue: string; pollers: number }[],
    extra: Record<string, string> = {},
  ) {
    const prefix = uniquePrefix(prefixLabel);
    prefixes.push(prefix);
    const bridge = spawnBridge(bridgeEnv(prefix, sfnLocal.url, bindings, { LOG_LEVEL: 'info', ...extra }));
    bridges.push(bridge);
    return bridge;
  }

  it(
    '10 % throttling on 8 pollers for 60 s: at most 3 lines per binding; Redis unreachable for 60 s with 10 bindings: at most 5 lines in all',
    async () => {
      // Throttling: two bindings of 8 pollers; every GetActivityTask has a 10 % chance of ThrottlingException.
      const throttled = await Promise.all(['inc-thr-a', 'inc-thr-b'].map((label) => createActivityMachine(sfn, label)));
      const throttledBridge = spawn(
        'inc-thr',
        throttled.map((m, i) => ({ activityArn: m.activityArn, queue: `inc-thr-${i}`, pollers: 8 })),
      );
      // Redis unreachable: ten bindings, REDIS_URL at a closed port.
      const tenActivities = await Promise.all(Array.from({ length: 10 }, (_, i) => createActivityMachine(sfn, `inc-redis-${i}`)));
      const redisDownBridge = spawn(
        'inc-redis',
        tenActivities.map((m, i) => ({ activityArn: m.activityArn, queue: `inc-redis-${i}`, pollers: 2 })),
        { REDIS_URL: `redis://127.0.0.1:${await freePort()}` },
      );
      await Promise.all([throttledBridge, redisDownBridge].map((b) => b.waitForOutput(/Listening on/, 30_000)));
      const fault = sfnLocal.injectFault({ action: 'GetActivityTask', kind: 'throttle', probability: 0.1 });
      await new Promise((r) => setTimeout(r, RUN_MS));
      const throttles = sfnLocal.listFaults().find((f) => f.id === fault.id)?.fired ?? 0;
      sfnLocal.clearFaults();
      await Promise.all([stop(throttledBridge), stop(redisDownBridge)]);

      // No BULL_BOARD_PASSWORD: the board is read-only, said once at start-up.
      expect(throttledBridge.output().match(/Bull Board is read-only/g)?.length).toBe(1);
      // The storm happened: about 16 polls/s, a tenth of them throttled.
      expect(throttles).toBeGreaterThan(50);
      const throttleLines = linesAfterStart(throttledBridge);
      for (const m of throttled) {
        const about = throttleLines.filter((l) => l.msg.includes(m.activityName)).map((l) => `${l.level} ${l.msg}`);
        expect({ binding: m.activityName, count: about.length, about }).toEqual({
          binding: m.activityName,
          count: Math.min(about.length, 3),
          about,
        });
        expect(about[0]).toMatch(/^warn Binding .*GetActivityTask failed: ThrottlingException/);
      }

      const redisLines = linesAfterStart(redisDownBridge).map((l) => `${l.level} ${l.context}: ${l.msg}`);
      expect({ count: redisLines.length, redisLines }).toEqual({ count: Math.min(redisLines.length, 5), redisLines });
      expect(redisLines.join('\n')).toMatch(/Redis connection failed: connect ECONNREFUSED/);
    },
    RUN_MS + 60_000,
  );
});
