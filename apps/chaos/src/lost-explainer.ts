import type { SfnLocalControl } from '../../sfn-local/src/control-client';
import type { KillRecord } from './chaos-monkey';
import type { TaskStateReader } from './task-state';
import type { ExecRecord } from './workload-driver';

/**
 * Why an execution is still RUNNING: where its task token went (emulator task record; the task
 * record and the job on the binding queue in Redis, with the relay's view of the job's events; the
 * replica it was handed to and whether that replica was killed).
 */
export async function explainLost(
  rec: ExecRecord,
  control: SfnLocalControl,
  state: TaskStateReader,
  queue: string,
  kills: KillRecord[],
): Promise<{ text: string; inKilledReplica: boolean }> {
  const [task] = await control.tasks({ executionArn: rec.arn! });
  if (!task) return { text: 'no task record', inKilledReplica: false };
  if (task.status === 'pending') return { text: 'task never handed out (no poll took it)', inKilledReplica: false };
  // The emulator's token hash is the bridge's job id (jobIdForToken) and task record id.
  const jobId = task.tokenHash!;
  const present = await state.presence(queue, jobId).catch(() => ({ record: false, job: false, jobFinished: false }));
  const kill = kills.find((k) => k.workerName === task.workerName);
  const since = kill && task.handedOutAt ? kill.at - task.handedOutAt : undefined;
  const where = `token ${jobId.slice(0, 12)} handed to ${task.workerName}${since !== undefined ? ` ${since} ms before its ${kill!.signal}` : ''}`;
  if (!present.job && !present.record) {
    // Handed out shortly before the SIGKILL (or in the instant the dying process's sockets were
    // still open): the token was only in that process's memory. Nothing can save it.
    const inKilled = !!kill && kill.signal === 'SIGKILL' && since !== undefined && since >= -2_000 && since < 35_000;
    return { text: `${task.status}, ${where}; no job or task record in Redis (token never written)`, inKilledReplica: inKilled };
  }
  const detail = await state.describe(queue, jobId).catch((err: Error) => `state unreadable: ${err.message}`);
  return {
    text: `${task.status}, ${where}; job ${present.job ? (present.jobFinished ? 'finished' : 'not finished') : 'missing'}, task record ${present.record ? 'present' : 'missing'} (${detail})`,
    inKilledReplica: false,
  };
}
