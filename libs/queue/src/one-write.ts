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

/** Socket -> commands to issue at the end of the turn, just before the held writes go out. */
const atEndOfTurn = new WeakMap<object, (() => void)[]>();

/**
 * Holds `client`'s writes from now until this turn of the event loop has run its callbacks and
 * promise jobs (`setImmediate`), for commands a library issues a few promise jobs later (BullMQ's
 * `Queue.add` awaits before it writes its script call). `last`, if given, is called at the end of
 * the turn, before the writes go out: what it issues follows everything issued before in this turn,
 * in the same socket write. Without a socket (a Cluster, a fake) `last` runs at the end of the turn
 * all the same, so the order holds.
 */
export function holdWritesThisTurn(client: object, last?: () => void): void {
  const socket = socketOf(client);
  if (!socket) {
    if (last) setImmediate(last);
    return;
  }
  const queued = atEndOfTurn.get(socket);
  if (queued) {
    if (last) queued.push(last);
    return;
  }
  if ((socket.writableCorked ?? 0) > 0) {
    // Corked by a caller's inOneWrite: its uncork comes first; `last` still follows in order.
    if (last) setImmediate(last);
    return;
  }
  const calls: (() => void)[] = last ? [last] : [];
  atEndOfTurn.set(socket, calls);
  socket.cork();
  setImmediate(() => {
    atEndOfTurn.delete(socket);
    try {
      for (const call of calls) call();
    } finally {
      socket.uncork();
    }
  });
}
