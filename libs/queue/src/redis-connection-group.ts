import IORedis from 'ioredis';
import type { RedisClient } from './redis-connection';
import { closeHandler } from 'ioredis/built/redis/event_handler';

const ADOPTED = Symbol('adoptedByRedisConnectionGroup');

type Adoptable = IORedis & { [ADOPTED]?: true; isCluster?: boolean };

/**
 * Every plain ioredis connection of the process (the ones QueueModule creates and every duplicate
 * BullMQ makes of them for workers and queue events), so shutdown can always end them.
 *
 * Why it exists: shutdown hung forever while Redis was unreachable. ioredis 6 never ends a
 * connection that is disconnected between two reconnect attempts: `disconnect()` clears the
 * pending reconnect timer and, as no socket is open, no `close` event ever comes to finish the job
 * (redis/ioredis#1247, #1830; the upstream fix, PR #2169, is not released). Every BullMQ close
 * (`Worker.close`, `QueueEvents.close`) waits for that `end`, or for a connection that never
 * became ready. The group (1) finishes such a disconnect the way that PR does, (2) once shutdown
 * began, turns every later connection loss into an end instead of a reconnect, and (3) ends at
 * once the connections that are not connected when it begins, so nothing waits for Redis.
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

    const disconnect = c.disconnect.bind(c);
    c.disconnect = (reconnect = false) => {
      const betweenAttempts = !reconnect && c.status === 'reconnecting';
      disconnect(reconnect);
      // redis/ioredis#1247: no socket is open, so no `close` event will finish the disconnect.
      if (betweenAttempts && c.status === 'reconnecting') closeHandler(c)();
    };

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
