/**
 * Drops a schedule entry whose task record does not exist, atomically with the check.
 * KEYS[1] schedule zset, KEYS[2] the task record. ARGV[1] job id, ARGV[2] now ms.
 *
 * Why a script: a heartbeat pass that found no record (then: no relay job) for a claimed entry
 * used to ZREM it. If the task's write was being retried meanwhile (its schedule entry from an
 * earlier try, its record landing now), the removal came after the write and left a live task
 * without heartbeats. Here the record landing first keeps the entry and makes it due at once (the
 * claim pushed it a hold into the future), so the next tick of any replica beats it. Returns 1 if dropped, 0 if kept.
 * Both keys are under the BullMQ prefix (one hash slot on a Cluster).
 */
export const DROP_ORPHAN_SCRIPT = `
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('ZADD', KEYS[1], 'XX', tonumber(ARGV[2]), ARGV[1])
  return 0
end
return redis.call('ZREM', KEYS[1], ARGV[1])
`;
