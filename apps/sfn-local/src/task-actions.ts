import { SfnError } from './errors';
import type { Emulator } from './emulator';
import { checkPayloadSize, isJson, optString, reqString } from './validation';

type Body = Record<string, unknown>;

const token = (body: Body) => reqString(body, 'taskToken', 1, 2048);

export function sendTaskSuccess(emu: Emulator, body: Body) {
  const t = token(body);
  const output = reqString(body, 'output', 0, Number.MAX_SAFE_INTEGER);
  checkPayloadSize('output', output);
  const task = emu.tasks.resolveForResult(t);
  if (!isJson(output)) throw new SfnError('InvalidOutput', 'Invalid Output: the output is not valid JSON');
  emu.tasks.succeed(task, output);
  return {};
}

export function sendTaskFailure(emu: Emulator, body: Body) {
  const t = token(body);
  const error = optString(body, 'error', 0, 256);
  const cause = optString(body, 'cause', 0, 32_768);
  const task = emu.tasks.resolveForResult(t);
  emu.tasks.fail(task, error, cause);
  return {};
}

export function sendTaskHeartbeat(emu: Emulator, body: Body) {
  const task = emu.tasks.resolve(token(body));
  emu.tasks.heartbeat(task);
  return {};
}
