import type { Cluster, Redis } from 'ioredis';

/**
 * Where a stuck relay (parent) job sits in BullMQ's keys, for the read-out of an execution left
 * RUNNING while its child finished: which list / sorted set / set holds it, its lock (owner and
 * TTL), the hash fields that say how far it got, the child's parent link and the parent's
 * dependency keys, the queue's marker. Read on whatever primary serves the prefix now, so a
 * state a failover left half-written shows as it is.
 */
export async function describeRelayJob(
  redis: Redis | Cluster,
  prefix: string,
  queue: string,
  childQueue: string,
  id: string,
): Promise<string> {
  const q = `${prefix}:${queue}`;
  const job = `${q}:${id}`;
  const child = `${prefix}:${childQueue}:${id}`;
  const lists = ['wait', 'active', 'paused'];
  const zsets = ['waiting-children', 'delayed', 'prioritized', 'completed', 'failed'];
  const [inLists, inZsets, stalled, lock, lockTtl, fields, deps, processed, failedDeps, unsuccessful, marker, childFields] =
    await Promise.all([
      Promise.all(lists.map((l) => redis.lpos(`${q}:${l}`, id))),
      Promise.all(zsets.map((z) => redis.zscore(`${q}:${z}`, id))),
      redis.sismember(`${q}:stalled`, id),
      redis.get(`${job}:lock`),
      redis.pttl(`${job}:lock`),
      redis.hmget(job, 'processedOn', 'finishedOn', 'attemptsMade', 'ats', 'atm', 'stc', 'failedReason', 'returnvalue'),
      redis.smembers(`${job}:dependencies`),
      redis.hkeys(`${job}:processed`),
      redis.hkeys(`${job}:failed`),
      redis.zrange(`${job}:unsuccessful`, '0', '-1'),
      redis.zrange(`${q}:marker`, '0', '-1', 'WITHSCORES'),
      redis.hmget(child, 'finishedOn', 'parentKey', 'failedReason', 'atm'),
    ]);
  const where = [
    ...lists.flatMap((l, i) => (inLists[i] === null ? [] : [`${l}@${inLists[i]}`])),
    ...zsets.flatMap((z, i) => (inZsets[i] === null ? [] : [`${z}(${inZsets[i]})`])),
    ...(stalled ? ['stalled'] : []),
  ];
  const [processedOn, finishedOn, attemptsMade, ats, atm, stc, failedReason, returnvalue] = fields;
  const now = Date.now();
  const ago = (v: string | null) => (v ? `${now - Number(v)} ms ago` : '-');
  return [
    `relay job in [${where.join(', ') || 'no state set'}]`,
    `lock ${lock ? `${lock} (pttl ${lockTtl})` : 'none'}`,
    `processedOn ${ago(processedOn)}, finishedOn ${ago(finishedOn)}, attemptsMade ${attemptsMade ?? '-'}, ats ${ats ?? '-'}, atm ${atm ?? '-'}, stc ${stc ?? '-'}`,
    `failedReason ${failedReason ?? '-'}, returnvalue ${returnvalue ?? '-'}`,
    `dependencies [${deps.join(' ')}], processed [${processed.join(' ')}], failed [${failedDeps.join(' ')}], unsuccessful [${unsuccessful.join(' ')}]`,
    `marker [${marker.join(' ')}]`,
    `child finishedOn ${ago(childFields[0])}, parentKey ${childFields[1] ?? '-'}, failedReason ${childFields[2] ?? '-'}, atm ${childFields[3] ?? '-'}`,
  ].join('; ');
}
