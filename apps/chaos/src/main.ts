import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ALL_ACTIONS, ChaosAction, DEFAULT_OPTIONS } from './chaos-options';
import { killAllChildren } from '@bridge/common';
import { REDIS_MODES, RedisMode } from './redis-topology';
import { runChaos } from './run-chaos';
import { formatSummary } from './summary-table';
import { Kind, KINDS } from './workload';

const HELP = `Usage: npm run chaos -- [options]
  --executions N     executions to start (default ${DEFAULT_OPTIONS.executions})
  --seconds S        bound on the whole run (default ${DEFAULT_OPTIONS.seconds})
  --seed N           workload and chaos schedule seed (default ${DEFAULT_OPTIONS.seed})
  --replicas N       bridge replicas (default ${DEFAULT_OPTIONS.replicas})
  --redis MODE       ${REDIS_MODES.join(' | ')} (default ${DEFAULT_OPTIONS.redis}): one redis-server with AOF, which the
                     redis-* actions restart; or a private 3x1 Redis Cluster (prefix {chaos}) / a primary + replica
                     under 3 Sentinels, whose primary the redis-* actions fail over instead (graceful or SIGKILL,
                     drawn from the seed) before bringing the old primary back as replica
  --rate N           StartExecution per second (default ${DEFAULT_OPTIONS.rate})
  --chaos-every S    mean seconds between chaos actions (default ${DEFAULT_OPTIONS.chaosEverySeconds})
  --actions LIST     comma list of ${ALL_ACTIONS.join(', ')}, or none (default all)
  --no-faults        no throttling / 5xx / dropped connections at the emulator
  --kinds LIST       workload kinds (default all: ${Object.keys(KINDS).join(', ')})
  --task-heartbeat-seconds S   HeartbeatSeconds of the heartbeat-needing Task state (default ${DEFAULT_OPTIONS.taskHeartbeatSeconds}; the bridge heartbeats it every 1 s)
  --report FILE      also write the summary as JSON
  --keep             keep the temporary directory (logs, AOF) even when the run passes
Needs the built bridge and emulator (npm run build) and /usr/bin/redis-server. Exit 1 when any
"must be 0" column is not 0.`;

function int(name: string, v: string | undefined, dflt: number, min = 1): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(`chaos: --${name} must be an integer >= ${min}, got '${v}'\n`);
    process.exit(2);
  }
  return n;
}

function list<T extends string>(name: string, v: string | undefined, all: readonly T[]): T[] | undefined {
  if (v === undefined) return undefined;
  if (v === 'none') return [];
  const items = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean) as T[];
  const bad = items.filter((i) => !all.includes(i));
  if (bad.length) {
    process.stderr.write(`chaos: --${name}: unknown ${bad.join(', ')} (known: ${all.join(', ')})\n`);
    process.exit(2);
  }
  return items;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      executions: { type: 'string' },
      seconds: { type: 'string' },
      seed: { type: 'string' },
      replicas: { type: 'string' },
      redis: { type: 'string' },
      rate: { type: 'string' },
      'chaos-every': { type: 'string' },
      actions: { type: 'string' },
      'no-faults': { type: 'boolean' },
      kinds: { type: 'string' },
      'task-heartbeat-seconds': { type: 'string' },
      report: { type: 'string' },
      keep: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const kinds = list<Kind>('kinds', values.kinds, Object.keys(KINDS) as Kind[]);
  const redis = (values.redis ?? DEFAULT_OPTIONS.redis) as RedisMode;
  if (!REDIS_MODES.includes(redis)) {
    process.stderr.write(`chaos: --redis must be one of ${REDIS_MODES.join(', ')}, got '${values.redis}'\n`);
    return 2;
  }
  const summary = await runChaos({
    ...DEFAULT_OPTIONS,
    executions: int('executions', values.executions, DEFAULT_OPTIONS.executions),
    seconds: int('seconds', values.seconds, DEFAULT_OPTIONS.seconds),
    seed: int('seed', values.seed, DEFAULT_OPTIONS.seed, 0),
    replicas: int('replicas', values.replicas, DEFAULT_OPTIONS.replicas),
    redis,
    rate: int('rate', values.rate, DEFAULT_OPTIONS.rate),
    chaosEverySeconds: int('chaos-every', values['chaos-every'], DEFAULT_OPTIONS.chaosEverySeconds),
    actions: list<ChaosAction>('actions', values.actions, ALL_ACTIONS) ?? DEFAULT_OPTIONS.actions,
    faults: !values['no-faults'],
    kinds: kinds && kinds.length ? kinds : DEFAULT_OPTIONS.kinds,
    taskHeartbeatSeconds: int('task-heartbeat-seconds', values['task-heartbeat-seconds'], DEFAULT_OPTIONS.taskHeartbeatSeconds, 2),
    keep: values.keep ?? false,
  });
  process.stdout.write(formatSummary(summary));
  if (values.report) writeFileSync(values.report, JSON.stringify(summary, null, 2));
  return summary.ok ? 0 : 1;
}

process.on('exit', killAllChildren);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`chaos: ${signal}, stopping every child\n`);
    killAllChildren();
    process.exit(130);
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`chaos: ${(err as Error)?.stack ?? String(err)}\n`);
    killAllChildren();
    process.exit(2);
  },
);
