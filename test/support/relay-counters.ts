import type { SfnLocalCounters } from '../../apps/sfn-local/src';

/**
 * SendTaskSuccess / SendTaskFailure calls the emulator answered `TaskTimedOut` because the task
 * was already closed: a result relayed twice (in tests where no task times out). Unlike the
 * emulator's `duplicateSendTask`, this leaves out SendTaskHeartbeat, whose race with a close
 * (a heartbeat claimed just before the relay, sent just after it) is benign.
 */
export function duplicateRelays(c: SfnLocalCounters): number {
  return (c.errors.SendTaskSuccess?.TaskTimedOut ?? 0) + (c.errors.SendTaskFailure?.TaskTimedOut ?? 0);
}
