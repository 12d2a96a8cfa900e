/**
 * RELAY_CONCURRENCY as a collaborator of its own: at most `limit` runs at once, one per key; more
 * wait in arrival order (their stream entries stay pending meanwhile); a second arrival for a key
 * that runs or waits is handed back as that first item, for the caller to merge into.
 */
export class RelaySlots<T> {
  private readonly running = new Map<string, { item: T; done: Promise<unknown> }>();
  private readonly queued = new Map<string, T>();
  private readonly waiting: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly limit: number,
    private readonly start: (item: T) => Promise<unknown>,
  ) {}

  /** Runs and waiting items. */
  get size(): number {
    return this.running.size + this.queued.size;
  }

  /** The item running or waiting under `key`, if any. */
  find(key: string): T | undefined {
    return this.running.get(key)?.item ?? this.queued.get(key);
  }

  /** Queues `item` under `key` (not running or waiting already: see find) and starts what fits. */
  add(key: string, item: T): void {
    this.queued.set(key, item);
    this.pump();
  }

  /** Resolves when fewer than `limit` items run or wait (or once closed). */
  room(): Promise<void> {
    if (this.size < this.limit || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** No more starts: waiting items are dropped, room() resolves, and this resolves when the runs end. */
  async close(): Promise<void> {
    this.closed = true;
    this.queued.clear();
    for (const wake of this.waiting.splice(0)) wake();
    await Promise.allSettled([...this.running.values()].map((r) => r.done));
  }

  private pump(): void {
    for (const [key, item] of this.queued) {
      if (this.running.size >= this.limit || this.closed) break;
      this.queued.delete(key);
      const done = this.start(item).finally(() => {
        this.running.delete(key);
        this.pump();
        if (this.size < this.limit) this.waiting.shift()?.();
      });
      this.running.set(key, { item, done });
    }
  }
}
