/**
 * Commands a task needs together go to Redis in one socket write. ioredis writes every command to
 * its socket as it is issued, one `write` system call each, and on loopback each call also runs
 * the receiving side of TCP: in a CPU profile of the bridge under load, the single-command writes
 * (the heartbeat-schedule entry, the poll-slot bookkeeping, the schedule removal) were 7 % of its
 * CPU. Corking the socket while they are issued makes them one `writev` (strace of a 3,000-task
 * bench run: 9.2 -> 5.3 write system calls per task).
 *
 * ioredis' own answer, `enableAutoPipelining`, builds a Pipeline per tick, and a Pipeline copies
 * every script defined on its connection (BullMQ defines dozens): measured no gain (README,
 * Benchmarks). A Cluster client writes to several node sockets; it is left as it is.
 */
type Corkable = { isCluster?: boolean; stream?: { cork(): void; uncork(): void; writableCorked?: number } };

/** The client's socket: an ioredis client on one node (standalone, Sentinel); none for a Cluster or a fake. */
const socketOf = (client: object) => ((client as Corkable).isCluster ? undefined : (client as Corkable).stream);

/** Issues `commands` (synchronously) into one write on `client`'s socket. */
export function inOneWrite<T>(client: object, commands: () => T): T {
  const socket = socketOf(client);
  socket?.cork();
  try {
    return commands();
  } finally {
    socket?.uncork();
  }
}

/**
 * Holds `client`'s writes from now until this turn of the event loop has run its callbacks and
 * promise jobs (`setImmediate`), for commands a library issues a few promise jobs later (BullMQ's
 * flow producer awaits before it writes its MULTI).
 */
export function holdWritesThisTurn(client: object): void {
  const socket = socketOf(client);
  if (!socket || (socket.writableCorked ?? 0) > 0) return;
  socket.cork();
  setImmediate(() => socket.uncork());
}
