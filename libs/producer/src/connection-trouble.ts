/**
 * When the producer's connection last showed trouble, so that only writes made in or soon after
 * it pay for a read-back (write-check.ts); a healthy connection costs nothing.
 *
 * Why it exists (issue 10): on a Redis Cluster, ioredis 6 can split one MULTI of a flow write
 * across two nodes while a killed primary fails over. The Cluster client refuses the first command
 * of the pipeline (its randomly picked node is still connecting: "Connection is closed.") before it
 * has fixed the pipeline's node, and sends the rest to another node, where they are queued for
 * replies but never written (the pipeline writes its buffer only once every command is in it). That
 * node's replies are then handed to the wrong commands, and the flow's EXEC can take another
 * command's "OK" or array as its own: a write acknowledged that never reached Redis. It happens
 * only amid connection errors, retries and topology changes, which is what is watched here. The
 * bridge's Cluster connections no longer use the option that allows it (enableOfflineQueue false,
 * libs/queue redis-connection.ts); the read-back stays, whatever else misroutes a reply.
 */

/** Events of an ioredis client (plain or Cluster) that mean its replies may not be trusted blindly. */
export const TROUBLE_EVENTS = ['error', 'close', 'reconnecting', 'node error', '+node', '-node'] as const;

/** Writes stay suspect this long after the last trouble seen (a failover's retries last seconds). */
export const TROUBLE_QUIET_MS = 30_000;

export interface EventSource {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
}

export class ConnectionTrouble {
  private lastAt = -Infinity;

  /** Listens to `connection`'s trouble events (a fake without `on` is simply not watched). */
  constructor(connection?: Partial<EventSource>) {
    for (const event of TROUBLE_EVENTS) connection?.on?.(event, () => this.note());
  }

  /** Something went wrong on the connection (an event, or a write that failed). */
  note(now = Date.now()): void {
    this.lastAt = Math.max(this.lastAt, now);
  }

  /** Whether a write acknowledged now must be read back before it is trusted. */
  suspect(now = Date.now()): boolean {
    return now - this.lastAt < TROUBLE_QUIET_MS;
  }
}
