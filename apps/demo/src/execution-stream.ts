import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { ExecutionsTracker } from './executions-tracker';
import { inputFor } from './scenario';

const MAX_IN_FLIGHT = 32;

/**
 * Starts executions at a steady rate (up to `limit` of them, or until stopped) and hands each to
 * the tracker. Execution names are `<runId>-<i>`, unique per run.
 */
export class ExecutionStream {
  private timer?: NodeJS.Timeout;
  private next = 0;
  private inFlight = 0;
  private t0 = 0;
  private pending = new Set<Promise<void>>();
  private finishedResolve!: () => void;
  /** Resolves when `limit` executions were started (or the stream was stopped) and none is in flight. */
  readonly finished = new Promise<void>((r) => (this.finishedResolve = r));
  private stopped = false;

  constructor(
    private readonly sfn: SFNClient,
    private readonly stateMachineArn: string,
    private readonly tracker: ExecutionsTracker,
    private readonly runId: string,
    private readonly rate: number,
    private readonly limit = Number.POSITIVE_INFINITY,
  ) {}

  start(): void {
    this.t0 = Date.now();
    this.timer = setInterval(() => this.tick(), 25);
    this.tick();
  }

  /** Starts no more executions; resolves once the ones being started are recorded. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await Promise.allSettled([...this.pending]);
    this.finishedResolve();
  }

  private tick(): void {
    if (this.stopped) return;
    const due = Math.min(this.limit, Math.floor(((Date.now() - this.t0) / 1000) * this.rate) + 1);
    while (this.next < due && this.inFlight < MAX_IN_FLIGHT) this.startOne(this.next++);
    if (this.next >= this.limit) void this.stop();
  }

  private startOne(i: number): void {
    const { input, expect } = inputFor(this.runId, i);
    const name = `${this.runId}-${i}`;
    this.inFlight++;
    const p = this.sfn
      .send(new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name, input: JSON.stringify(input) }))
      .then(
        (out) => this.tracker.add(out.executionArn!, name, input, expect),
        (err: Error) => this.tracker.startFailed(name, err),
      )
      .finally(() => {
        this.inFlight--;
        this.pending.delete(p);
      });
    this.pending.add(p);
  }
}
