/** What a replica remembers of a token it recently enqueued or heartbeated. */
export interface LocalHeartbeat {
  taskToken: string;
  binding: string;
  intervalMs: number;
  nextDueAt: number;
  /** Last time this replica enqueued, claimed or heartbeated it. */
  touchedAt: number;
}

/** An entry not touched for this many intervals (+ slack) is another replica's, or finished. */
const STALE_INTERVALS = 3;
const STALE_SLACK_MS = 10_000;

/**
 * The tokens this replica has recently enqueued or heartbeated, in memory. While Redis (and so the
 * shared schedule) is unreachable, the heartbeat service keeps these alive from here, and when
 * Redis returns it re-adds them to the schedule (healing writes an outage lost). Every outstanding
 * token is claimed by some replica every interval, so each is fresh in at least one replica's copy.
 */
export class LocalHeartbeats {
  private readonly entries = new Map<string, LocalHeartbeat>();

  get size(): number {
    return this.entries.size;
  }

  remember(jobId: string, entry: Omit<LocalHeartbeat, 'touchedAt'>, now = Date.now()): void {
    this.entries.set(jobId, { ...entry, touchedAt: now });
  }

  touch(jobId: string, nextDueAt: number, now = Date.now()): void {
    const entry = this.entries.get(jobId);
    if (entry) {
      entry.nextDueAt = nextDueAt;
      entry.touchedAt = now;
    }
  }

  forget(jobId: string): void {
    this.entries.delete(jobId);
  }

  /** Fresh entries due by `now`, at most `max`, earliest first. */
  due(now: number, max: number): Array<[string, LocalHeartbeat]> {
    const due: Array<[string, LocalHeartbeat]> = [];
    for (const item of this.entries) if (item[1].nextDueAt <= now && this.fresh(item[1], now)) due.push(item);
    return due.sort((a, b) => a[1].nextDueAt - b[1].nextDueAt).slice(0, max);
  }

  /** Fresh entries (for re-seeding the shared schedule). */
  freshEntries(now = Date.now()): Array<[string, LocalHeartbeat]> {
    return [...this.entries].filter(([, e]) => this.fresh(e, now));
  }

  /** Drops entries nobody here touched for a few intervals. */
  prune(now = Date.now()): number {
    let dropped = 0;
    for (const [jobId, entry] of this.entries) {
      if (!this.fresh(entry, now)) {
        this.entries.delete(jobId);
        dropped++;
      }
    }
    return dropped;
  }

  private fresh(entry: LocalHeartbeat, now: number): boolean {
    return now - entry.touchedAt <= STALE_INTERVALS * entry.intervalMs + STALE_SLACK_MS;
  }
}
