import type { SfnLocalCounters } from '../../apps/sfn-local/src';

/**
 * SendTaskSuccess / SendTaskFailure calls that reached a task a result had already closed: a
 * result relayed twice, whether Step Functions accepted or rejected it (the emulator's
 * `secondResults`). Unlike `duplicateSendTask`, this leaves out SendTaskHeartbeat (a heartbeat
 * racing a close, or the relay's probe of a closed task, is benign) and late first results on
 * tasks that timed out.
 */
export function duplicateRelays(c: SfnLocalCounters): number {
  return c.secondResults;
}
