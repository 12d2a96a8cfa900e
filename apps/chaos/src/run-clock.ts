/** The run's start, its time bound, and the elapsed-time stamp of progress lines. */
export class RunClock {
  readonly t0 = Date.now();
  readonly deadline: number;

  constructor(seconds: number) {
    this.deadline = this.t0 + seconds * 1000;
  }

  /** Seconds since the start, padded for log lines (e.g. `  42s`). */
  elapsed(): string {
    return `${((Date.now() - this.t0) / 1000).toFixed(0).padStart(4)}s`;
  }

  seconds(): number {
    return (Date.now() - this.t0) / 1000;
  }
}
