/**
 * Logs a failure that repeats (a throttling storm, a Redis outage, an unreachable endpoint) as an
 * incident a person can read: one line when it starts, one more the first time each further cause
 * shows up, a summary with counts at most once per `summaryEveryMs` while failures continue, and
 * one line when it ends. It ends only after `quietMs` without any failure and with a success
 * since the last failure (hysteresis): a success amid intermittent failures (10 % throttling) does
 * not end it, so it does not log "recovered" and "failed" again every few seconds. Replaces the
 * earlier BurstLog, which ended a burst on any success.
 */

/** The part of Nest's Logger this needs. */
export interface IncidentLogger {
  warn(message: string): void;
  log(message: string): void;
}

export interface IncidentLogOptions {
  /** No failure for this long, and a success since the last failure, ends the incident. */
  quietMs?: number;
  /** At most one summary line per this while the incident lasts. */
  summaryEveryMs?: number;
  /** Clock (tests may pass a fake one; timers are the global ones, fakeable with jest). */
  now?: () => number;
}

export const INCIDENT_QUIET_MS = 15_000;
export const INCIDENT_SUMMARY_EVERY_MS = 60_000;

interface Open {
  startedAt: number;
  lastFailureAt: number;
  lastSuccessAt?: number;
  lastDetail: string;
  /** Failures per cause since the start, and since the last line that gave counts. */
  total: Map<string, number>;
  sinceSummary: number;
  summaryTimer: NodeJS.Timeout;
  endTimer?: NodeJS.Timeout;
}

export class IncidentLog {
  private current?: Open;
  private readonly quietMs: number;
  private readonly summaryEveryMs: number;
  private readonly now: () => number;

  constructor(
    private readonly logger: IncidentLogger,
    private readonly what: string,
    opts: IncidentLogOptions = {},
  ) {
    this.quietMs = opts.quietMs ?? INCIDENT_QUIET_MS;
    this.summaryEveryMs = opts.summaryEveryMs ?? INCIDENT_SUMMARY_EVERY_MS;
    this.now = opts.now ?? Date.now;
  }

  /** True from the first failure until the incident ended. */
  get open(): boolean {
    return this.current !== undefined;
  }

  /** Same as `open` (the BurstLog name). */
  get inBurst(): boolean {
    return this.open;
  }

  /**
   * One failure; `cause` groups failures (an error name; default: the first word of `detail`),
   * `detail` is shown on the start line and as the last failure in summaries.
   */
  failure(detail: string, cause = firstWord(detail)): void {
    const now = this.now();
    const cur = this.current;
    if (!cur) {
      const summaryTimer = setInterval(() => this.summarize(), this.summaryEveryMs);
      summaryTimer.unref?.();
      this.current = {
        startedAt: now,
        lastFailureAt: now,
        lastDetail: detail,
        total: new Map([[cause, 1]]),
        sinceSummary: 1,
        summaryTimer,
      };
      this.logger.warn(`${this.what} failed: ${detail}`);
      return;
    }
    cur.lastFailureAt = now;
    cur.lastDetail = detail;
    cur.sinceSummary++;
    const seen = cur.total.get(cause);
    cur.total.set(cause, (seen ?? 0) + 1);
    if (seen === undefined) this.logger.warn(`${this.what} also failed: ${detail}`);
  }

  /** One success: the incident ends once it has been quiet for `quietMs`. */
  success(): void {
    const cur = this.current;
    if (!cur) return;
    cur.lastSuccessAt = this.now();
    this.scheduleEnd(cur);
  }

  /** Ends the incident without a line (shutdown); clears its timers. */
  dispose(): void {
    if (this.current) this.clear(this.current);
  }

  private scheduleEnd(cur: Open): void {
    if (cur.endTimer) return;
    const wait = Math.max(0, cur.lastFailureAt + this.quietMs - this.now());
    cur.endTimer = setTimeout(() => {
      cur.endTimer = undefined;
      if (this.current !== cur) return;
      const now = this.now();
      const quiet = now - cur.lastFailureAt >= this.quietMs;
      const succeededSince = cur.lastSuccessAt !== undefined && cur.lastSuccessAt >= cur.lastFailureAt;
      if (quiet && succeededSince) return this.end(cur, now);
      // Failed meanwhile: wait for the next success after the last failure.
      if (succeededSince) this.scheduleEnd(cur);
    }, wait);
    cur.endTimer.unref?.();
  }

  private summarize(): void {
    const cur = this.current;
    if (!cur || cur.sinceSummary === 0) return;
    const minutes = Math.round((this.now() - cur.startedAt) / 60_000);
    this.logger.warn(
      `${this.what} still failing: ${cur.sinceSummary} failure(s) in the last ${Math.round(this.summaryEveryMs / 1000)} s ` +
        `(${this.counts(cur)} in ${minutes} min); last: ${cur.lastDetail}`,
    );
    cur.sinceSummary = 0;
  }

  private end(cur: Open, now: number): void {
    this.clear(cur);
    const seconds = Math.round((cur.lastFailureAt - cur.startedAt) / 100) / 10;
    this.logger.log(
      `${this.what} recovered: ${this.counts(cur)} over ${seconds} s, none in the last ${Math.round((now - cur.lastFailureAt) / 1000)} s`,
    );
  }

  private counts(cur: Open): string {
    return [...cur.total].map(([cause, n]) => `${n} × ${cause}`).join(', ');
  }

  private clear(cur: Open): void {
    clearInterval(cur.summaryTimer);
    clearTimeout(cur.endTimer);
    if (this.current === cur) this.current = undefined;
  }
}

function firstWord(detail: string): string {
  return detail.trim().split(/[\s:(]/, 1)[0] || 'failure';
}
