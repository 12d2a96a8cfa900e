/**
 * The read-back of a task write (write-check.ts), as one script so that it is one round trip on one
 * slot. KEYS: the task record, the heartbeat schedule. ARGV: the job id.
 *
 * It echoes the job id first: a reply that does not start with it was meant for another command,
 * which proves the connection's replies are misaligned. Then: `missing` (no record: the write did
 * not land; the record is written after the job, so a record means the job is there),
 * `unscheduled` (the record but no schedule entry: the ZADD did not land), `written`, or `closed`
 * (the task closed already, so the relay removed its schedule entry; nothing to write again).
 */
export const WRITE_CHECK_SCRIPT = `
if redis.call('HEXISTS', KEYS[1], 'closed') == 1 then return {ARGV[1], 'closed'} end
if redis.call('HEXISTS', KEYS[1], 'token') == 0 then return {ARGV[1], 'missing'} end
if redis.call('ZSCORE', KEYS[2], ARGV[1]) then return {ARGV[1], 'written'} end
return {ARGV[1], 'unscheduled'}
`;

export const WRITE_CHECK_COMMAND = 'sfnBridgeWriteCheck';
