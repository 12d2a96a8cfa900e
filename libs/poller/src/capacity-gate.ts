import { Injectable, Logger } from '@nestjs/common';
import { BridgeMetrics } from '@bridge/metrics';
import { RedisStatus } from '@bridge/queue';
import { sleep } from '@bridge/common';
import { BindingState } from './binding-state';
import { SlotReservations } from './slot-reservations.service';

/** Retry of a binding that is full: 25 ms, doubling to this, reset by any grant. */
export const FULL_BACKOFF = { firstMs: 25, maxMs: 500 };
/** While Redis is down, or a reservation failed: re-check this often. */
const RECHECK_MS = 200;

interface Waiter {
  resolve(granted: boolean): void;
  signal: AbortSignal;
}

/**
 * Lets a poll start only with a slot reserved in Redis (SlotReservations): tasks outstanding + poll
 * slots of every live replica < `maxPending`, and slots < 1,000 (Step Functions' cap on parked
 * polls per activity). Loops of one binding waiting for a slot share one reservation call (it asks
 * for as many slots as there are waiters); a full binding is re-asked with backoff, one call per
 * binding, never one per loop. Tasks beyond the limit stay in Step Functions, where no clock runs.
 */
@Injectable()
export class CapacityGate {
  private readonly logger = new Logger(CapacityGate.name);
  private readonly waiters = new Map<BindingState, Waiter[]>();
  private readonly asking = new Set<BindingState>();
  private readonly backoff = new Map<BindingState, number>();

  constructor(
    private readonly reservations: SlotReservations,
    private readonly redis: RedisStatus,
    private readonly metrics: BridgeMetrics,
  ) {}

  redisReady(): boolean {
    return this.redis.up;
  }

  /** Resolves true with a slot reserved for the caller's loop, false when `signal` aborted first. */
  acquire(state: BindingState, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const waiter: Waiter = { resolve, signal };
      const list = this.waiters.get(state) ?? [];
      list.push(waiter);
      this.waiters.set(state, list);
      signal.addEventListener('abort', () => this.drop(state, waiter), { once: true });
      void this.ask(state);
    });
  }

  /**
   * A loop that holds a slot polls again only when Redis is up and the binding not paused (an
   * unhealthy binding's retry delay). Resolves false when `signal` aborted first.
   */
  async ready(state: BindingState, signal: AbortSignal): Promise<boolean> {
    while (!signal.aborted) {
      const now = Date.now();
      if (now < state.pausedUntil) await sleep(state.pausedUntil - now, signal);
      else if (!this.redisReady()) await sleep(RECHECK_MS, signal);
      else return true;
    }
    return false;
  }

  /** A poll with our slot returned a task (`jobId`): issued in the same tick as the task's write. */
  taken(state: BindingState, jobId: string, takenAt: number): Promise<{ kept: boolean; outstanding: number }> {
    return this.reservations.taken(state.name, jobId, takenAt, state.config.maxPending);
  }

  /** The task's write ended: the slot stays with the loop or not. */
  settleTaken(state: BindingState, kept: boolean, outstanding: number): void {
    state.capacity.taken(kept, outstanding);
    this.metrics.outstandingTasks.set({ binding: state.name }, outstanding);
  }

  /** A task failed with Bridge.EnqueueFailed (closed without a job): out of the outstanding set. */
  async closeUnwritten(state: BindingState, jobId: string): Promise<void> {
    await this.reservations.closeUnwritten(state.name, jobId).catch((err: Error) => {
      this.logger.warn(`Binding ${state.name}: could not remove an unwritten task from the outstanding set (${err.message})`);
    });
  }

  /** A loop stops holding its slot (shed, drain): given back in Redis. */
  async release(state: BindingState): Promise<void> {
    state.capacity.released(1);
    try {
      await this.reservations.release(state.name, 1);
    } catch (err) {
      // The lease renewal re-asserts the true count; until then the slot is over-counted (safe side).
      this.logger.warn(`Binding ${state.name}: could not give a poll slot back (${(err as Error).message})`);
    }
    this.backoff.delete(state);
    void this.ask(state);
  }

  private drop(state: BindingState, waiter: Waiter): void {
    const list = this.waiters.get(state) ?? [];
    const i = list.indexOf(waiter);
    if (i >= 0) list.splice(i, 1);
    waiter.resolve(false);
  }

  /** One reservation call per binding at a time, for every loop waiting. */
  private async ask(state: BindingState): Promise<void> {
    if (this.asking.has(state)) return;
    this.asking.add(state);
    try {
      for (;;) {
        const list = this.waiters.get(state) ?? [];
        if (list.length === 0) return;
        const now = Date.now();
        if (now < state.pausedUntil) {
          await sleep(state.pausedUntil - now);
          continue;
        }
        if (!this.redisReady()) {
          await sleep(RECHECK_MS);
          continue;
        }
        let granted = 0;
        let full = 0;
        const want = list.length;
        try {
          const reply = await this.reservations.reserve(state.name, want, state.config.maxPending);
          granted = reply.granted;
          full = reply.granted;
          if (granted > 0) this.backoff.delete(state);
          state.capacity.granted(granted, reply.outstanding);
          this.metrics.outstandingTasks.set({ binding: state.name }, reply.outstanding);
        } catch {
          // Redis went away mid-call: re-check after a while (the loop sees redisReady() false).
          await sleep(RECHECK_MS);
          continue;
        }
        for (; granted > 0 && list.length > 0; granted--) list.shift()!.resolve(true);
        // Waiters that aborted while the call was out: their slots go back.
        if (granted > 0) {
          state.capacity.released(granted);
          await this.reservations.release(state.name, granted).catch(() => undefined);
        }
        if (list.length === 0) {
          this.backoff.delete(state);
          return;
        }
        // Less than asked for: the binding is full, ask again after a backoff. (All granted: the
        // waiters left came in meanwhile, ask for them now.)
        if (full < want) {
          const wait = this.backoff.get(state) ?? FULL_BACKOFF.firstMs;
          this.backoff.set(state, Math.min(FULL_BACKOFF.maxMs, wait * 2));
          await sleep(wait);
        }
      }
    } finally {
      this.asking.delete(state);
    }
  }
}
