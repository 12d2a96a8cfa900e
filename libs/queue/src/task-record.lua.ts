/**
 * The scripts that move a task record (task-record.ts) from one state to the next, each one atomic
 * step on one hash slot: a record and the keys next to it share the BullMQ prefix, which holds the
 * hash tag on a Cluster. Field names are TaskField's. Leases are in Redis time (TIME), so replicas'
 * clocks never compare with each other.
 */

/** Redis time in ms (scripts replicate their effects, so TIME is allowed). */
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * Claim a task's relay. KEYS: record, the task's job hash. ARGV: lease ms, owner, then the job
 * fields to return. Answers `{'missing'}` (no record: not a bridge task, or its tombstone
 * expired), `{'closed', status}`, `{'busy'}` (another owner's lease runs), or `{'claimed', token,
 * binding, queue, receivedAt, trace, attempts, <job fields, nil where absent...>}`: attempts counts this claim, so
 * more than 1 means an earlier claim may have sent. The owner may claim again before its lease ends
 * (its own retry).
 */
export const CLAIM_RELAY_SCRIPT = `
local r = redis.call('HMGET', KEYS[1], 'token', 'closed', 'lease', 'owner')
if r[2] then return {'closed', r[2]} end
if not r[1] then return {'missing'} end
${NOW}
if r[3] and tonumber(r[3]) > now and r[4] ~= ARGV[2] then return {'busy'} end
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('HSET', KEYS[1], 'lease', now + tonumber(ARGV[1]), 'owner', ARGV[2])
local d = redis.call('HMGET', KEYS[1], 'binding', 'queue', 'receivedAt', 'trace')
local out = {'claimed', r[1], d[1] or '', d[2] or '', d[3] or '0', d[4] or '', attempts}
if #ARGV > 2 then
  local j = redis.call('HMGET', KEYS[2], unpack(ARGV, 3))
  for i = 1, #ARGV - 2 do out[7 + i] = j[i] end
end
return out
`;

/**
 * Close a relay its owner claimed: the record keeps `closed` (the status) and `reason`, and
 * expires, without the token; the stream entries named are acknowledged. KEYS: record, event
 * stream. ARGV: owner, status, reason, tombstone ms, consumer group, entry ids... Answers 1 (closed), 0 (already closed), -1 (another
 * replica holds the relay now: its claim counted one more attempt, so it probes before sending).
 */
export const CLOSE_RELAY_SCRIPT = `
local r = redis.call('HMGET', KEYS[1], 'owner', 'closed')
local result = 1
if r[2] then
  result = 0
elseif r[1] ~= ARGV[1] then
  return -1
else
  redis.call('HSET', KEYS[1], 'closed', ARGV[2], 'reason', ARGV[3])
  redis.call('HDEL', KEYS[1], 'token', 'lease', 'trace')
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
if #ARGV > 5 then redis.call('XACK', KEYS[2], ARGV[5], unpack(ARGV, 6)) end
return result
`;

/**
 * Close a task nobody relays, as `cancelled` (its execution is gone, or it was failed with
 * Bridge.EnqueueFailed before a late write landed). KEYS: record. ARGV: reason, tombstone ms.
 * Answers `cancelled`, `closed` (closed already, or no record) or `relaying` (a relay holds a lease:
 * it ends the task itself, and its probe sees the task gone).
 */
export const CANCEL_TASK_SCRIPT = `
local r = redis.call('HMGET', KEYS[1], 'token', 'closed', 'lease')
if r[2] or not r[1] then return 'closed' end
${NOW}
if r[3] and tonumber(r[3]) > now then return 'relaying' end
redis.call('HSET', KEYS[1], 'closed', 'cancelled', 'reason', ARGV[1])
redis.call('HDEL', KEYS[1], 'token', 'lease', 'trace')
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 'cancelled'
`;

/**
 * What a heartbeat needs of a task: the record, and whether and when its job finished. KEYS:
 * record. ARGV: the BullMQ prefix, the job id. The job's hash is found through the record's queue,
 * a key in the record's slot (as BullMQ's own scripts reach the keys of a job). The first read that
 * finds the job gone notes when (`gone`), so "gone for a while" counts from then, not from when the
 * task was taken (a job removed on completion is gone before its event is relayed). Answers `{}`
 * (no record), `{'closed', status, binding}`, or `{'open', token, binding, queue, receivedAt, trace,
 * lease, job finishedOn, job gone since (0: there), Redis now}`.
 */
export const READ_TASK_SCRIPT = `
local r = redis.call('HMGET', KEYS[1], 'token', 'binding', 'queue', 'receivedAt', 'trace', 'lease', 'closed')
if r[7] then return {'closed', r[7], r[2] or ''} end
if not r[1] or not r[3] then return {} end
local job = ARGV[1] .. ':' .. r[3] .. ':' .. ARGV[2]
local finishedOn = redis.call('HGET', job, 'finishedOn')
${NOW}
local gone = 0
if redis.call('EXISTS', job) == 0 then
  redis.call('HSETNX', KEYS[1], 'gone', now)
  gone = tonumber(redis.call('HGET', KEYS[1], 'gone'))
end
return {'open', r[1], r[2] or '', r[3] or '', r[4] or '0', r[5] or '', r[6] or '0', finishedOn or '', gone, now}
`;
