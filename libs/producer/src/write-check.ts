import { Logger } from '@nestjs/common';
import { withTimeout } from '@bridge/common';
import { TaskKeys } from '@bridge/queue';
import { ConnectionTrouble, EventSource } from './connection-trouble';
import { WRITE_CHECK_COMMAND, WRITE_CHECK_SCRIPT } from './write-check.lua';

/**
 * Reads a task write back before it is trusted, when it was acknowledged while the producer's
 * connection was in trouble (connection-trouble.ts says why: ioredis' Cluster client could
 * acknowledge a write that never reached Redis). One round trip, self-checking: the script echoes the job
 * id, so a reply meant for another command is recognised, and the connection, whose replies are
 * then known to be misaligned, is dropped and reconnected. A write found missing is written again
 * by the producer (same job id: BullMQ adds nothing twice, the schedule ZADD is NX).
 */

/** What the check needs of the producer's connection (an ioredis client, plain or Cluster). */
export interface CheckableConnection extends Partial<EventSource> {
  defineCommand?(name: string, definition: { lua: string; numberOfKeys: number }): void;
  disconnect?(reconnect?: boolean): void;
  status?: string;
}

export type WriteCheckResult =
  | { ok: true; checked: boolean }
  | { ok: false; reason: string; /** the connection's replies were misaligned (it was reconnected) */ misaligned: boolean };

/** Reconnecting again within this long is pointless: the first reconnect drops every misaligned reply. */
const REALIGN_EVERY_MS = 1_000;

type Script = (...args: string[]) => Promise<unknown>;

export class WriteCheck {
  private readonly logger = new Logger(WriteCheck.name);
  readonly trouble: ConnectionTrouble;
  private realignedAt = -Infinity;

  constructor(
    private readonly connection: CheckableConnection,
    private readonly keys: TaskKeys,
    private readonly scheduleKey: string,
  ) {
    connection.defineCommand?.(WRITE_CHECK_COMMAND, { lua: WRITE_CHECK_SCRIPT, numberOfKeys: 2 });
    this.trouble = new ConnectionTrouble(connection);
  }

  /** A write of `jobId` was acknowledged: trusted as is on a quiet connection, else read back within `timeoutMs`. */
  async confirm(jobId: string, timeoutMs: number): Promise<WriteCheckResult> {
    if (!this.trouble.suspect()) return { ok: true, checked: false };
    const { verdict: _verdict, ...result } = await this.readBack(jobId, timeoutMs);
    return result;
  }

  /**
   * Before a write is tried again: what an earlier try left in Redis, whatever the connection's
   * state. `written` / `closed`: it landed (and the job may be done and removed by now, so it must
   * not be added again); `unscheduled`: it landed but for its schedule entry; `missing`: it did not;
   * undefined: unknown (unreadable, or a misaligned reply: the connection is reconnected).
   */
  async earlierTry(jobId: string, timeoutMs: number): Promise<'written' | 'closed' | 'unscheduled' | 'missing' | undefined> {
    const result = await this.readBack(jobId, timeoutMs);
    return result.verdict;
  }

  private async readBack(
    jobId: string,
    timeoutMs: number,
  ): Promise<WriteCheckResult & { verdict?: 'written' | 'closed' | 'unscheduled' | 'missing' }> {
    let reply: unknown;
    try {
      const script = (this.connection as unknown as Record<string, Script>)[WRITE_CHECK_COMMAND].bind(this.connection);
      reply = await withTimeout(script(this.keys.record(jobId), this.scheduleKey, jobId), timeoutMs, 'write check');
    } catch (err) {
      return { ok: false, reason: `it could not be read back (${(err as Error).message})`, misaligned: false };
    }
    const verdict = Array.isArray(reply) && reply.length === 2 && reply[0] === jobId ? reply[1] : undefined;
    switch (verdict) {
      case 'written':
      case 'closed':
        return { ok: true, checked: true, verdict };
      case 'missing':
        return { ok: false, reason: 'it was acknowledged but its job and record are not in Redis', misaligned: false, verdict: 'missing' };
      case 'unscheduled':
        return {
          ok: false,
          reason: 'it was acknowledged but its heartbeat-schedule entry is not in Redis',
          misaligned: false,
          verdict: 'unscheduled',
        };
      default:
        this.realign();
        return { ok: false, reason: `its read-back got ${describe(reply)}, a reply meant for another command`, misaligned: true };
    }
  }

  /**
   * The connection answered a command with another command's reply: every reply queued on it may
   * be shifted, so it is dropped and reconnected (ioredis fails what waits on it with "Connection is
   * closed.", which the callers retry).
   */
  realign(now = Date.now()): void {
    this.trouble.note(now);
    if (now - this.realignedAt < REALIGN_EVERY_MS || this.connection.status !== 'ready') return;
    this.realignedAt = now;
    this.logger.warn('Redis answered the producer connection with replies meant for other commands; reconnecting it');
    this.connection.disconnect?.(true);
  }
}

/** The shape of a wrong reply, for the log; never a long string (another command's reply may hold a token). */
function describe(reply: unknown): string {
  if (Array.isArray(reply)) return `an array of ${reply.length}`;
  if (typeof reply === 'string')
    return reply.length <= 16 ? `the string ${JSON.stringify(reply)}` : `a string of ${reply.length} characters`;
  return typeof reply === 'number' ? `the number ${reply}` : String(reply);
}
