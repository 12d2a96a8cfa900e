import type { ServerResponse } from 'node:http';
import { activityArn, requireArn } from './arns';
import { SfnError } from './errors';
import type { Emulator } from './emulator';
import { epochSeconds, paginate } from './pagination';
import { checkName, optString, reqString } from './validation';

type Body = Record<string, unknown>;

export function createActivity(emu: Emulator, body: Body) {
  const name = reqString(body, 'name', 1, 80);
  checkName(name);
  const arn = activityArn(emu.account, name);
  let a = emu.activities.get(arn);
  if (!a) emu.activities.set(arn, (a = { arn, name, creationDate: Date.now() }));
  return { activityArn: arn, creationDate: epochSeconds(a.creationDate) };
}

export function describeActivity(emu: Emulator, body: Body) {
  const arn = reqString(body, 'activityArn', 1, 256);
  requireArn(arn, 'activity');
  const a = emu.activities.get(arn);
  if (!a) throw new SfnError('ActivityDoesNotExist', `Activity Does Not Exist: '${arn}'`);
  return { activityArn: a.arn, name: a.name, creationDate: epochSeconds(a.creationDate) };
}

export function listActivities(emu: Emulator, body: Body) {
  const all = [...emu.activities.values()].sort((a, b) => a.name.localeCompare(b.name));
  const { page, nextToken } = paginate(body, 'activities', all);
  return {
    activities: page.map((a) => ({ activityArn: a.arn, name: a.name, creationDate: epochSeconds(a.creationDate) })),
    nextToken,
  };
}

/** Deleting is idempotent; polls parked on the activity are answered empty at once. */
export function deleteActivity(emu: Emulator, body: Body) {
  const arn = reqString(body, 'activityArn', 1, 256);
  requireArn(arn, 'activity');
  if (emu.activities.delete(arn)) emu.queues.release(arn);
  return {};
}

/** Long poll: the reply is written by the queues (task, or `{}` after the hold). */
export function getActivityTask(emu: Emulator, body: Body, res: ServerResponse): undefined {
  const arn = reqString(body, 'activityArn', 1, 256);
  const workerName = optString(body, 'workerName', 1, 80);
  requireArn(arn, 'activity');
  if (!emu.activities.has(arn)) throw new SfnError('ActivityDoesNotExist', `Activity Does Not Exist: '${arn}'`);
  emu.queues.poll(arn, workerName, res);
  return undefined;
}
