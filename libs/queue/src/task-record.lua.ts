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
 * The producer's write of a task's record, only if the task's job is there. KEYS: record, the
 * task's job hash. ARGV: field, value, ... Answers 1 (written) or 0 (no job: nothing written).
 *
 * Why the check: the record follows the job in the same socket write, and on one connection to
 * one node Redis applies them in that order, so a record means its job was added, and a retry
 * that finds the record must not add the job again (it may be done and removed by now). A Cluster
 * client can reorder them: a job add redirected or retried through a failover lands after, or
 * never, while the record goes through. Checked here, "a record means its job was added" holds
 * on every topology (found in the Cluster chaos run: a record without a job, relayed 15 s later
 * as Bridge.JobMissing).
 */
export const WRITE_RECORD_SCRIPT = `
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
`;

/**
 * Claim a task's relay. KEYS: record, the task's job hash. ARGV: lease ms, owner, how the job ended
 * as the caller heard it (`completed` / `failed` / `removed`, or '' when it does not know) and its
 * value (the return value, the failed reason), then the job fields to return.
 *
 * The first claim that knows how the job ended keeps it in the record (`end`, `value`), so a later
 * claim relays that even when the event and the job are gone by then (a replica killed mid-relay
 * whose stream entry was trimmed before another took it over). A later claim that does not know
 * (a heartbeat's find) or heard only `removed` gets the kept end back.
 *
 * Answers `{'missing'}` (no record: not a bridge task, or its tombstone expired), `{'closed',
 * status}`, `{'busy'}` (another owner's lease runs), or `{'claimed', token, binding, queue,
 * receivedAt, trace, attempts, kept end, kept value, <job fields, nil where absent...>}` (the kept
 * end and value '' unless returned as described): attempts counts this claim, so more than 1 means
 * an earlier claim may have sent. The owner may claim again before its lease ends (its own retry).
 */
export const CLAIM_RELAY_SCRIPT = `
local r = redis.call('HMGET', KEYS[1], 'token', 'closed', 'lease', 'owner', 'end')
if r[2] then return {'closed', r[2]} end
if not r[1] then return {'missing'} end
${NOW}
if r[3] and tonumber(r[3]) > now and r[4] ~= ARGV[2] then return {'busy'} end
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('HSET', KEYS[1], 'lease', now + tonumber(ARGV[1]), 'owner', ARGV[2])
local kept, value = '', ''
if r[5] then
  if ARGV[3] == '' or ARGV[3] == 'removed' then
    kept = r[5]
    value = redis.call('HGET', KEYS[1], 'value') or ''
  end
elseif ARGV[3] ~= '' then
  redis.call('HSET', KEYS[1], 'end', ARGV[3], 'value', ARGV[4])
end
local d = redis.call('HMGET', KEYS[1], 'binding', 'queue', 'receivedAt', 'trace')
local out = {'claimed', r[1], d[1] or '', d[2] or '', d[3] or '0', d[4] or '', attempts, kept, value}
if #ARGV > 4 then
  local j = redis.call('HMGET', KEYS[2], unpack(ARGV, 5))
  for i = 1, #ARGV - 4 do out[9 + i] = j[i] end
end
return out
`;

/**
 * Close a relay its owner claimed: the record keeps `closed` (the status) and `reason`, and
 * expires, without the token or the kept end; the task leaves the heartbeat schedule and its
 * binding's outstanding set; the stream entries named are acknowledged. KEYS: record, event
 * stream, heartbeat schedule, outstanding set. ARGV: owner, status, reason, tombstone ms, job id,
 * consumer group, entry ids... Answers 1 (closed), 0 (already closed: only the entries are
 * acknowledged and the task unscheduled), -1 (another replica holds the relay now: its claim
 * counted one more attempt, so it probes before sending; nothing is touched, its close does it).
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
  redis.call('HDEL', KEYS[1], 'token', 'lease', 'trace', 'end', 'value')
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
redis.call('ZREM', KEYS[3], ARGV[5])
redis.call('ZREM', KEYS[4], ARGV[5])
if #ARGV > 6 then redis.call('XACK', KEYS[2], ARGV[6], unpack(ARGV, 7)) end
return result
`;

/**
 * Close a task nobody relays, as `cancelled` (its execution is gone, or it is being failed with
 * Bridge.EnqueueFailed). KEYS: record. ARGV: reason, tombstone ms. A missing record is closed too
 * (a tombstone), so a write of the task that lands later finds it closed. Answers `cancelled`,
 * `closed` (closed already, by a relay or a cancel) or `relaying` (a relay holds a lease: it ends
 * the task itself, and its probe sees the task gone).
 */
export const CANCEL_TASK_SCRIPT = `
local r = redis.call('HMGET', KEYS[1], 'token', 'closed', 'lease')
if r[2] then
  -- A late write may have put the token back into a tombstone: it goes again.
  redis.call('HDEL', KEYS[1], 'token', 'trace', 'end', 'value')
  return 'closed'
end
${NOW}
if r[3] and tonumber(r[3]) > now then return 'relaying' end
redis.call('HSET', KEYS[1], 'closed', 'cancelled', 'reason', ARGV[1])
redis.call('HDEL', KEYS[1], 'token', 'lease', 'trace', 'end', 'value')
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
else
  redis.call('HDEL', KEYS[1], 'gone')
end
return {'open', r[1], r[2] or '', r[3] or '', r[4] or '0', r[5] or '', r[6] or '0', finishedOn or '', gone, now}
`;
