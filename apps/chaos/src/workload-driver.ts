import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { sleep } from '@bridge/common';
import type { ChaosOptions } from './chaos-options';
import { MachineRef, machineOf } from './sfn-resources';
import { BindingKey, chooseKind, Expected, expectedOf, makeInput, TaskInput } from './workload';

/** StartExecution calls in flight at most. */
const MAX_IN_FLIGHT = 32;

/** One planned execution; `arn` and `startedAt` are set once StartExecution answered. */
export interface ExecRecord {
  index: number;
  input: TaskInput;
  expected: Expected;
  arn?: string;
  startedAt?: number;
}

/** The seeded workload: one record per execution, with what the worker will make of it. */
export function planExecutions(random: () => number, opts: Pick<ChaosOptions, 'executions' | 'kinds' | 'heartbeatWorkMs'>): ExecRecord[] {
  const records: ExecRecord[] = [];
  for (let i = 0; i < opts.executions; i++) {
    const kind = chooseKind(random, opts.kinds);
    const input = makeInput(random, i, kind, opts.heartbeatWorkMs);
    records.push({ index: i, input, expected: expectedOf(input) });
  }
  return records;
}

/** Starts the planned executions at `rate` per second until 10 s before the deadline. */
export class WorkloadDriver {
  startErrors = 0;
  /** Every StartExecution answered (or the deadline stopped the driver). */
  done = false;
  allStartedAt = 0;

  constructor(
    readonly records: ExecRecord[],
    private readonly sfn: SFNClient,
    private readonly machines: Map<BindingKey, MachineRef>,
    private readonly rate: number,
    private readonly deadline: number,
  ) {}

  /** The records StartExecution accepted. */
  started(): ExecRecord[] {
    return this.records.filter((r) => r.arn);
  }

  async run(): Promise<void> {
    const begin = Date.now();
    let inFlight = 0;
    const flights = new Set<Promise<void>>();
    for (const rec of this.records) {
      if (Date.now() > this.deadline - 10_000) break;
      const due = begin + (rec.index * 1000) / this.rate;
      if (due > Date.now()) await sleep(due - Date.now());
      while (inFlight >= MAX_IN_FLIGHT) await Promise.race(flights);
      inFlight++;
      const m = machineOf(this.machines, rec.input.kind);
      const p = this.sfn
        .send(
          new StartExecutionCommand({
            stateMachineArn: m.stateMachineArn,
            name: `${rec.input.kind}-${rec.index}`,
            input: JSON.stringify(rec.input),
          }),
        )
        .then(
          (out) => {
            rec.arn = out.executionArn;
            rec.startedAt = Date.now();
          },
          () => void this.startErrors++,
        )
        .finally(() => {
          inFlight--;
          flights.delete(p);
        });
      flights.add(p);
    }
    await Promise.all(flights);
    this.done = true;
    this.allStartedAt = Date.now();
  }
}
