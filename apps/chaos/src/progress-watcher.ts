import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { SfnLocalControl } from '../../sfn-local/src/control-client';
import { sleep } from '@bridge/common';
import type { ChaosMonkey } from './chaos-monkey';
import type { ChaosOptions } from './chaos-options';
import type { ProcessSupervisor } from './process-supervisor';
import type { RedisTopology } from './redis-topology';
import type { RunClock } from './run-clock';
import type { MachineRef } from './sfn-resources';
import type { WorkloadDriver } from './workload-driver';
import type { BindingKey } from './workload';

export interface ProgressContext {
  opts: Pick<ChaosOptions, 'executions' | 'stallSeconds'>;
  sfn: SFNClient;
  control: SfnLocalControl;
  machines: Map<BindingKey, MachineRef>;
  driver: WorkloadDriver;
  monkey: ChaosMonkey;
  supervisor: ProcessSupervisor;
  redis: Pick<RedisTopology, 'status'>;
  clock: RunClock;
  log: (line: string) => void;
}

/** Executions still RUNNING, over every state machine. */
async function countRunning(sfn: SFNClient, machines: Map<BindingKey, MachineRef>): Promise<number> {
  let n = 0;
  for (const m of machines.values()) {
    let nextToken: string | undefined;
    do {
      const page = await sfn.send(
        new ListExecutionsCommand({ stateMachineArn: m.stateMachineArn, statusFilter: 'RUNNING', maxResults: 1000, nextToken }),
      );
      n += page.executions?.length ?? 0;
      nextToken = page.nextToken;
    } while (nextToken);
  }
  return n;
}

/**
 * Watches the run once a second and logs progress every 5 s. Stops the chaos (and clears the
 * faults) once every execution is started and either all ended or 15 s passed; returns when all
 * ended, the time bound is reached, or none ended for `stallSeconds` after the chaos stopped.
 */
export async function watchProgress(ctx: ProgressContext): Promise<void> {
  const { opts, driver, monkey, supervisor, clock, log } = ctx;
  let lastRunning = -1;
  let lastChangeAt = Date.now();
  let lastPrint = 0;
  let chaosStoppedAt = 0;
  for (;;) {
    await sleep(1_000);
    const started = driver.started().length;
    const now = Date.now();
    const run = await countRunning(ctx.sfn, ctx.machines);
    if (run !== lastRunning) {
      lastRunning = run;
      lastChangeAt = now;
    }
    if (now - lastPrint >= 5_000) {
      lastPrint = now;
      const bridges = supervisor.bridges;
      const up = bridges.filter((b) => b.running).length;
      log(
        `[${clock.elapsed()}] started ${started}/${opts.executions}, running ${run}, ended ${started - run}; bridges up ${up}/${bridges.length}, redis ${ctx.redis.status()}, chaos actions ${monkey.events.length}`,
      );
    }
    if (now > clock.deadline) {
      log(`[${clock.elapsed()}] time bound reached with ${run} execution(s) still running`);
      break;
    }
    if (monkey.active && driver.done && (run === 0 || now - driver.allStartedAt > 15_000)) {
      await monkey.stop();
      await ctx.control.clearFaults();
      chaosStoppedAt = Date.now();
      lastChangeAt = chaosStoppedAt;
      log(`[${clock.elapsed()}] chaos stopped (faults cleared, every process up); waiting for ${run} execution(s)`);
      continue;
    }
    if (!monkey.active && driver.done && run === 0) break;
    if (!monkey.active && chaosStoppedAt && now - lastChangeAt > opts.stallSeconds * 1000) {
      log(`[${clock.elapsed()}] no execution ended for ${opts.stallSeconds} s; ${run} still running`);
      break;
    }
  }
}
