/**
 * Atomically claims heartbeats that are due, within a global token bucket, for one replica.
 * KEYS[1] schedule zset, KEYS[2] bucket hash.
 * ARGV[1] now ms, ARGV[2] max to claim, ARGV[3] rate per second, ARGV[4] burst, ARGV[5] hold ms.
 * Claimed members are pushed `hold` ms into the future, so no other replica claims them again
 * unless this one dies before rescheduling them. Returns the claimed members, or nil when the
 * schedule is empty (the replica may tick slowly). With nothing due it returns at once, leaving
 * the bucket alone (its refill is computed from `ts` on the next claim): such a tick costs one
 * ZRANGE, not six commands.
 */
export const CLAIM_DUE_SCRIPT = `
local now = tonumber(ARGV[1])
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #first == 0 then return false end
if tonumber(first[2]) > now then return {} end
local rate = tonumber(ARGV[3])
local burst = tonumber(ARGV[4])
local tokens = tonumber(redis.call('HGET', KEYS[2], 'tokens') or burst)
local ts = tonumber(redis.call('HGET', KEYS[2], 'ts') or now)
if now > ts then tokens = math.min(burst, tokens + (now - ts) * rate / 1000) end
local n = math.min(tonumber(ARGV[2]), math.floor(tokens))
local due = {}
if n > 0 then
  due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, n)
  local until_ms = now + tonumber(ARGV[5])
  for i = 1, #due do redis.call('ZADD', KEYS[1], 'XX', until_ms, due[i]) end
  tokens = tokens - #due
end
redis.call('HSET', KEYS[2], 'tokens', tostring(tokens), 'ts', tostring(math.max(now, ts)))
redis.call('PEXPIRE', KEYS[2], 60000)
return due
`;
