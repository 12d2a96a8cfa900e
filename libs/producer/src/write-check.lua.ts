/**
 * The read-back of a task write (write-check.ts), as one script so that it is one round trip on one
 * slot. KEYS: the relay job's hash, the heartbeat schedule. ARGV: the job id.
 *
 * It echoes the job id first: a reply that does not start with it was meant for another command,
 * which proves the connection's replies are misaligned. Then: `missing` (no relay job: the flow's
 * MULTI did not land), `unscheduled` (the relay job but no schedule entry and not finished: the
 * ZADD did not land), `written`, or `closed` (the relay job finished, so its schedule entry was
 * removed by the relay; nothing to write again).
 */
export const WRITE_CHECK_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {ARGV[1], 'missing'} end
if redis.call('ZSCORE', KEYS[2], ARGV[1]) then return {ARGV[1], 'written'} end
if redis.call('HEXISTS', KEYS[1], 'finishedOn') == 1 then return {ARGV[1], 'closed'} end
return {ARGV[1], 'unscheduled'}
`;

export const WRITE_CHECK_COMMAND = 'sfnBridgeWriteCheck';
