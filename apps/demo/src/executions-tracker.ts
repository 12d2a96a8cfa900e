import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { ChargeInput, Expectation, unexpectedReason } from './scenario';

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);
const CHECK_EVERY_MS = 250;
const MAX_IN_FLIGHT = 16;
const KEEP_UNEXPECTED = 50;
const THROUGHPUT_WINDOW_MS = 5000;

interface Running {
  arn: string;
  name: string;
  input: ChargeInput;
  expect: Expectation;
  nextCheck: number;
}

export interface Unexpected {
  name: string;
  reason: string;
}

export interface Counts {
  started: number;
  running: number;
  succeeded: number;
  declined: number;
  unexpected: number;
}

/**
 * Watches started executions with DescribeExecution until each is terminal, classifies it
 * (as expected or not) and keeps the end-to-end latency from its start and stop dates.
 */
export class ExecutionsTracker {
  readonly counts: Counts = { started: 0, running: 0, succeeded: 0, declined: 0, unexpected: 0 };
  readonly unexpected: Unexpected[] = [];
  /** End-to-end latencies (ms), DescribeExecution stopDate - startDate. */
  readonly latencies: number[] = [];
  /** StartExecution calls that failed (also counted as unexpected). */
  startFailures = 0;
  firstStart?: number;
  lastEnd?: number;
  private readonly running = new Map<string, Running>();
  private readonly recentEnds: number[] = [];
  private inFlight = 0;
  private timer?: NodeJS.Timeout;

  constructor(private readonly sfn: SFNClient) {}

  start(): void {
    this.timer = setInterval(() => this.tick(), 50);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  add(arn: string, name: string, input: ChargeInput, expect: Expectation): void {
    this.firstStart ??= Date.now();
    this.counts.started++;
    this.counts.running++;
    this.running.set(arn, { arn, name, input, expect, nextCheck: Date.now() + CHECK_EVERY_MS });
  }

  /** A StartExecution that failed: it never ran, which is unexpected. */
  startFailed(name: string, err: Error): void {
    this.startFailures++;
    this.markUnexpected(name, `StartExecution failed: ${err.name}: ${err.message}`);
  }

  /** Ended executions per second over the last few seconds. */
  throughput(now = Date.now()): number {
    while (this.recentEnds.length && this.recentEnds[0] < now - THROUGHPUT_WINDOW_MS) this.recentEnds.shift();
    const span = Math.min(THROUGHPUT_WINDOW_MS, now - (this.firstStart ?? now));
    return span > 0 ? (this.recentEnds.length * 1000) / span : 0;
  }

  /** Names of the executions still running (for a summary). */
  stillRunning(): string[] {
    return [...this.running.values()].map((r) => r.name);
  }

  private tick(): void {
    const now = Date.now();
    for (const r of this.running.values()) {
      if (this.inFlight >= MAX_IN_FLIGHT) return;
      if (r.nextCheck > now) continue;
      r.nextCheck = Number.POSITIVE_INFINITY; // being checked
      this.inFlight++;
      void this.check(r).finally(() => this.inFlight--); // check() handles its own errors
    }
  }

  private async check(r: Running): Promise<void> {
    try {
      const d = await this.sfn.send(new DescribeExecutionCommand({ executionArn: r.arn }));
      if (!TERMINAL.has(d.status ?? '')) {
        r.nextCheck = Date.now() + CHECK_EVERY_MS;
        return;
      }
      this.running.delete(r.arn);
      this.counts.running--;
      this.lastEnd = Date.now();
      this.recentEnds.push(this.lastEnd);
      if (d.startDate && d.stopDate) this.latencies.push(d.stopDate.getTime() - d.startDate.getTime());
      const reason = unexpectedReason(r.input, r.expect, d);
      if (reason) this.markUnexpected(r.name, reason);
      else if (r.expect === 'declined') this.counts.declined++;
      else this.counts.succeeded++;
    } catch (e) {
      if ((e as Error).name === 'ExecutionDoesNotExist') {
        this.running.delete(r.arn);
        this.counts.running--;
        this.markUnexpected(r.name, 'ExecutionDoesNotExist (forgotten by Step Functions)');
        return;
      }
      r.nextCheck = Date.now() + CHECK_EVERY_MS * 4; // transient: try again later
    }
  }

  private markUnexpected(name: string, reason: string): void {
    this.counts.unexpected++;
    if (this.unexpected.length < KEEP_UNEXPECTED) this.unexpected.push({ name, reason });
  }
}
