import { TaskField, TaskKeys } from '@bridge/queue';
import type { Cluster, Redis } from 'ioredis';

/**
 * How the bridge ended each task, read from its task records (`<prefix>:sfn-bridge:task:<job id>`):
 * a record closes once, with `closed` (relayed, expired, recovered, cancelled, abandoned) and
 * `reason`, and stays as a tombstone for at least five minutes. A sweep (SCAN over the records) every
 * minute while the run goes, and one at the read-out, therefore sees every closed record of a run of
 * any length; a record still open at the last sweep is counted `open`.
 */

/** A task record's end as swept: `closed` undefined while the record was open. */
export interface TaskEnd {
  closed?: string;
  reason?: string;
  /** Relay claims the task had (more than one: a retry, or a takeover), and the last claimer. */
  attempts?: number;
  owner?: string;
}

/** A task end for a read-out line, e.g. `relayed (success) after 2 relay claims, the last by <owner>`. */
export function describeTaskEnd(end: TaskEnd | undefined): string {
  if (!end) return 'no task record seen';
  const claims = `${end.attempts ?? 0} relay claim(s)${end.owner ? `, the last by ${end.owner}` : ''}`;
  return end.closed ? `${end.closed} (${end.reason ?? '-'}) after ${claims}` : `open after ${claims}`;
}

/** Sweep period: well under the tombstones' five minutes, so no closed record expires unseen. */
const SWEEP_EVERY_MS = 60_000;
const SCAN_COUNT = 1_000;

/** Counts task ends by outcome: `relayed <success | error name>`, `<status> <reason>`, or `open`. */
export function tallyRelayOutcomes(ends: Iterable<TaskEnd>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const end of ends) {
    const key = end.closed ? `${end.closed} ${end.reason ?? ''}`.trim() : 'open';
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

/** Every key matching `pattern`, on every primary of a Cluster (the run's keys are on one shard). */
export async function scanKeys(redis: Redis | Cluster, pattern: string): Promise<string[]> {
  const nodes: Redis[] = redis.isCluster ? (redis as Cluster).nodes('master') : [redis as Redis];
  const keys = new Set<string>();
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT);
      cursor = next;
      for (const k of batch) keys.add(k);
    } while (cursor !== '0');
  }
  return [...keys];
}

/** The task records of a run, swept while it goes and at its end: job id -> how the task ended. */
export class RelayOutcomes {
  readonly byJob = new Map<string, TaskEnd>();
  /** Sweeps that failed (Redis down or failing over); the next one catches up. */
  failedSweeps = 0;
  private readonly keys: TaskKeys;
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<void>;

  constructor(
    private readonly redis: Redis | Cluster,
    prefix: string,
  ) {
    this.keys = new TaskKeys(prefix);
  }

  start(): void {
    this.timer = setInterval(() => void this.sweep().catch(() => this.failedSweeps++), SWEEP_EVERY_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One sweep (after any sweep in flight): every record's `closed` / `reason` now. */
  async sweep(): Promise<void> {
    while (this.sweeping) await this.sweeping.catch(() => undefined);
    this.sweeping = this.sweepOnce();
    try {
      await this.sweeping;
    } finally {
      this.sweeping = undefined;
    }
  }

  /** How the swept tasks ended, by outcome (and how many sweeps failed, if any did: the figures may then miss some). */
  tally(): Record<string, number> {
    const out = tallyRelayOutcomes(this.byJob.values());
    if (this.failedSweeps > 0) out['sweeps failed'] = this.failedSweeps;
    return out;
  }

  private async sweepOnce(): Promise<void> {
    const recordPrefix = this.keys.record('');
    const keys = await scanKeys(this.redis, `${recordPrefix}*`);
    const fields = await Promise.all(
      keys.map((k) => this.redis.hmget(k, TaskField.Closed, TaskField.Reason, TaskField.Binding, TaskField.Attempts, TaskField.Owner)),
    );
    keys.forEach((key, i) => {
      const [closed, reason, binding, attempts, owner] = fields[i];
      const jobId = key.slice(recordPrefix.length);
      // Gone since the SCAN (every record has a binding), or closed already: a record closes once.
      if (binding === null || this.byJob.get(jobId)?.closed) return;
      const claims = { attempts: Number(attempts ?? 0), ...(owner ? { owner } : {}) };
      this.byJob.set(jobId, closed ? { closed, reason: reason ?? undefined, ...claims } : claims);
    });
  }
}
