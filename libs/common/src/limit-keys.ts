/**
 * Redis keys of the cross-replica `maxPending` reservations (issue 10), under the BullMQ prefix so a
 * hash-tagged prefix keeps them in the queues' slot. Here, in the leaf library, because the poller
 * (reserve), the producer's dispatch write and the heartbeat schedule's close all name them.
 */
export class LimitKeys {
  constructor(private readonly prefix: string) {}

  /** Sorted set per binding: member = job id of a task taken and not yet closed; score = taken-at ms * 2 + kept slot (0/1). */
  outstanding(binding: string): string {
    return `${this.prefix}:sfn-bridge:outstanding:${binding}`;
  }

  /** Hash per binding: field = replica id -> poll slots it holds; field `*` -> the sum over live replicas. */
  polls(binding: string): string {
    return `${this.prefix}:sfn-bridge:poll-slots:${binding}`;
  }

  /** Sorted set: member = replica id, score = its lease's expiry (ms); an expired replica's slots are purged. */
  get replicas(): string {
    return `${this.prefix}:sfn-bridge:replicas`;
  }
}
