import type { Cluster, Redis } from 'ioredis';
import type { SfnLocalControl } from '../../sfn-local/src/control-client';
import { RELAY_QUEUE } from './chaos-constants';
import type { KillRecord } from './chaos-monkey';
import { describeRelayJob } from './relay-job-state';
import type { ExecRecord } from './workload-driver';

/**
 * Why an execution is still RUNNING: where its task token went (emulator task record, the child
 * and relay jobs in Redis, the replica it was handed to and whether that replica was killed).
 */
export async function explainLost(
  rec: ExecRecord,
  control: SfnLocalControl,
  redis: Redis | Cluster,
  prefix: string,
  queue: string,
  kills: KillRecord[],
): Promise<{ text: string; inKilledReplica: boolean }> {
  const [task] = await control.tasks({ executionArn: rec.arn! });
  if (!task) return { text: 'no task record', inKilledReplica: false };
  if (task.status === 'pending') return { text: 'task never handed out (no poll took it)', inKilledReplica: false };
  const hash = task.tokenHash!;
  const [child, relay] = await Promise.all([
    redis.hget(`${prefix}:${queue}:${hash}`, 'finishedOn').then(
      (v) => v,
      () => null,
    ),
    redis.exists(`${prefix}:${RELAY_QUEUE}:${hash}`).then(
      (v) => v,
      () => 0,
    ),
  ]);
  const childExists = await redis.exists(`${prefix}:${queue}:${hash}`).then(
    (v) => v,
    () => 0,
  );
  const kill = kills.find((k) => k.workerName === task.workerName);
  const since = kill && task.handedOutAt ? kill.at - task.handedOutAt : undefined;
  const where = `token ${hash.slice(0, 12)} handed to ${task.workerName}${since !== undefined ? ` ${since} ms before its ${kill!.signal}` : ''}`;
  if (!childExists && !relay) {
    // Handed out shortly before the SIGKILL (or in the instant the dying process's sockets were
    // still open): the token was only in that process's memory. Nothing can save it.
    const inKilled = !!kill && kill.signal === 'SIGKILL' && since !== undefined && since >= -2_000 && since < 35_000;
    return { text: `${task.status}, ${where}; no job in Redis (token never written)`, inKilledReplica: inKilled };
  }
  const state = relay
    ? await describeRelayJob(redis, prefix, RELAY_QUEUE, queue, hash).catch((err: Error) => `state unreadable: ${err.message}`)
    : '';
  return {
    text: `${task.status}, ${where}; child ${childExists ? (child ? 'finished' : 'not finished') : 'missing'}, relay ${relay ? `present (${state})` : 'missing'}`,
    inKilledReplica: false,
  };
}
