/**
 * A reservation script answered something of the wrong shape. Seen once on a Redis Cluster while
 * the client was retrying through a failover ("Too many Cluster redirections", MOVED, "Connection
 * is closed"): the "taken" script's reply was the string "OK", a reply meant for another command.
 * Raised instead of reading numbers out of it, so the caller treats the call as unconfirmed (the
 * lease renewal re-asserts the true counts) and nothing downstream sees a non-number.
 */
export class UnexpectedReplyError extends Error {
  override readonly name = 'UnexpectedReplyError';

  constructor(script: string, reply: unknown) {
    super(`${script} answered ${describe(reply)} where two integers were expected`);
  }
}

function describe(reply: unknown): string {
  const text = typeof reply === 'string' ? JSON.stringify(reply.slice(0, 40)) : JSON.stringify(reply)?.slice(0, 80);
  return `${Array.isArray(reply) ? 'an array' : typeof reply} ${text ?? ''}`.trim();
}
