/**
 * The Lua of the cross-replica `maxPending` reservations. Every script touches the keys of one
 * binding (plus the replica lease set), all under the BullMQ prefix: one hash slot when it is
 * hash-tagged. "Pending" = tasks in the binding's outstanding set + poll slots held by live
 * replicas (field `*` of the poll-slot hash, kept equal to the sum of the replica fields).
 */

/**
 * KEYS: outstanding, poll-slots. ARGV: replica, want, maxPending, pollCap.
 * Grants up to `want` poll slots to `replica` while pending < maxPending and slots < pollCap.
 * Returns { granted, outstanding }.
 */
export const RESERVE_SCRIPT = `
local outstanding = redis.call('ZCARD', KEYS[1])
local slots = tonumber(redis.call('HGET', KEYS[2], '*') or '0')
local want = tonumber(ARGV[2])
local room = math.min(tonumber(ARGV[3]) - outstanding - slots, tonumber(ARGV[4]) - slots, want)
if room <= 0 then return {0, outstanding} end
redis.call('HINCRBY', KEYS[2], ARGV[1], room)
redis.call('HINCRBY', KEYS[2], '*', room)
return {room, outstanding}
`;

/**
 * KEYS: outstanding, poll-slots. ARGV: replica, jobId, takenAtMs, maxPending.
 * A poll holding one of `replica`'s slots returned task `jobId`: the task joins the outstanding set
 * and the slot is kept for the loop's next poll if there is still room (pending < maxPending),
 * else given back. Idempotent: a retried write finds the member and returns the first decision
 * (stored in the score's low bit). Returns { kept (0/1), outstanding }.
 */
export const TAKEN_SCRIPT = `
local known = redis.call('ZSCORE', KEYS[1], ARGV[2])
if known then return {tonumber(known) % 2, redis.call('ZCARD', KEYS[1])} end
local outstanding = redis.call('ZCARD', KEYS[1]) + 1
local slots = tonumber(redis.call('HGET', KEYS[2], '*') or '0')
local kept = 0
if outstanding + slots <= tonumber(ARGV[4]) then kept = 1 end
redis.call('ZADD', KEYS[1], tonumber(ARGV[3]) * 2 + kept, ARGV[2])
if kept == 0 then
  redis.call('HINCRBY', KEYS[2], ARGV[1], -1)
  redis.call('HINCRBY', KEYS[2], '*', -1)
end
return {kept, outstanding}
`;

/** KEYS: poll-slots. ARGV: replica, count. Gives back `count` of `replica`'s slots (a poller stopped). */
export const RELEASE_SCRIPT = `
local held = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
local n = math.min(held, tonumber(ARGV[2]))
if n <= 0 then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[1], -n)
redis.call('HINCRBY', KEYS[1], '*', -n)
return n
`;

/**
 * KEYS: replicas, poll-slots of every binding of this replica. ARGV: replica, now, leaseMs, then
 * this replica's slot count per binding (KEYS order). Renews the replica's lease and purges the
 * slots of replicas whose lease expired, from every binding given. A replica found missing (its
 * lease lapsed, e.g. a starved event loop, and was purged) re-asserts the slots it holds.
 * Returns { purged replicas, re-asserted (0/1) }.
 */
export const RENEW_SCRIPT = `
local now = tonumber(ARGV[2])
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
for _, r in ipairs(expired) do
  if r ~= ARGV[1] then
    for i = 2, #KEYS do
      local n = tonumber(redis.call('HGET', KEYS[i], r) or '0')
      if n ~= 0 then redis.call('HINCRBY', KEYS[i], '*', -n) end
      redis.call('HDEL', KEYS[i], r)
    end
    redis.call('ZREM', KEYS[1], r)
  end
end
local fresh = redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
local reasserted = 0
if fresh == 1 then
  for i = 2, #KEYS do
    local mine = tonumber(redis.call('HGET', KEYS[i], ARGV[1]) or '0')
    local want = tonumber(ARGV[2 + i])
    if mine ~= want then
      redis.call('HSET', KEYS[i], ARGV[1], want)
      redis.call('HINCRBY', KEYS[i], '*', want - mine)
      reasserted = 1
    end
  end
end
return {#expired, reasserted}
`;

/** KEYS: replicas, poll-slots of every binding. ARGV: replica. A replica leaving gives back every slot. */
export const LEAVE_SCRIPT = `
for i = 2, #KEYS do
  local n = tonumber(redis.call('HGET', KEYS[i], ARGV[1]) or '0')
  if n ~= 0 then redis.call('HINCRBY', KEYS[i], '*', -n) end
  redis.call('HDEL', KEYS[i], ARGV[1])
end
redis.call('ZREM', KEYS[1], ARGV[1])
return 1
`;

/**
 * KEYS: outstanding, heartbeat schedule. Removes from the outstanding set the tasks the heartbeat
 * schedule no longer holds: closed by a path that could not name the binding (a heartbeat finding
 * the task record gone). A task enters the schedule before (same pipeline) and leaves it with (same
 * round trip) the outstanding set, so "outstanding but not scheduled" means closed. Returns the count removed.
 */
export const SWEEP_SCRIPT = `
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
local removed = 0
for _, m in ipairs(members) do
  if not redis.call('ZSCORE', KEYS[2], m) then
    redis.call('ZREM', KEYS[1], m)
    removed = removed + 1
  end
end
return removed
`;
