import IORedis from 'ioredis';
import type { RedisClient } from './redis-connection';

const ADOPTED = Symbol('adoptedByRedisConnectionGroup');

type Adoptable = IORedis & { [ADOPTED]?: true; isCluster?: boolean };

/**
 * Every plain ioredis connection of the process (the ones QueueModule creates and every duplicate
 * BullMQ makes of them for workers and queue events), so shutdown can always end them.
 *
 * Why it exists: shutdown hung forever while Redis was unreachable. Every BullMQ close
 * (`Worker.close`, `QueueEvents.close`) waits for its connection's `end`, or for a connection that
 * never became ready, and a connection that keeps reconnecting to an unreachable Redis never gets
 * there. The group (1) once shutdown began, turns every later connection loss into an end instead
 * of a reconnect, and (2) ends at once the connections that are not connected when it begins, so
 * nothing waits for Redis. (Ending a connection between two reconnect attempts needs ioredis
 * >= 6.1.0, redis/ioredis#1247; 6.0.0 never emitted its `end`, and this group patched that.)
 */
export class RedisConnectionGroup {
  private readonly members = new Set<IORedis>();
  private closing = false;

  get shuttingDown(): boolean {
    return this.closing;
  }

  /** Takes `client` (and its future duplicates) into the group; returns it. Clusters are left as they are. */
  adopt<T extends RedisClient>(client: T): T {
    const c = client as unknown as Adoptable;
    if (c[ADOPTED] || c.isCluster) return client;
    c[ADOPTED] = true;
    this.members.add(c);
    c.once('end', () => this.members.delete(c));

    const retry = c.options.retryStrategy;
    c.options.retryStrategy = (times) => (this.closing ? null : (retry?.(times) ?? null));

    const duplicate = c.duplicate.bind(c);
    c.duplicate = (override) => this.adopt(duplicate(override) as IORedis);
    return client;
  }

  /**
   * Shutdown has begun: connections that are up stay up for their owners to close gracefully (a
   * lost one ends instead of reconnecting); those that are not connected end now, failing what
   * waits on them, as Redis cannot take those commands anyway.
   */
  endReconnects(): number {
    this.closing = true;
    let ended = 0;
    for (const c of this.members) {
      if (c.status === 'ready' || c.status === 'end') continue;
      c.disconnect();
      ended++;
    }
    return ended;
  }
}
