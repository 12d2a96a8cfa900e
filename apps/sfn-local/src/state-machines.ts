import { requireArn, stateMachineArn } from './arns';
import { parseDefinition } from './definition';
import { SfnError, validation } from './errors';
import type { Emulator } from './emulator';
import { epochSeconds, paginate } from './pagination';
import { checkName, optString, reqString } from './validation';

type Body = Record<string, unknown>;

const DEFAULT_ROLE = (emu: Emulator) => `arn:aws:iam::${emu.account.accountId}:role/sfn-local`;

/** Idempotent when called again with the same definition and role; otherwise StateMachineAlreadyExists. */
export function createStateMachine(emu: Emulator, body: Body) {
  const name = reqString(body, 'name', 1, 80);
  const definitionText = reqString(body, 'definition', 1, 1_048_576);
  const roleArn = optString(body, 'roleArn', 1, 256) ?? DEFAULT_ROLE(emu);
  checkName(name);
  const type = body.type ?? 'STANDARD';
  if (type !== 'STANDARD') {
    throw validation(`sfn-local only supports STANDARD state machines (activities are not available in ${String(type)} workflows)`);
  }
  const definition = parseDefinition(definitionText);
  const arn = stateMachineArn(emu.account, name);
  const existing = emu.stateMachines.get(arn);
  if (existing) {
    if (existing.definitionText === definitionText && existing.roleArn === roleArn) {
      return { stateMachineArn: arn, creationDate: epochSeconds(existing.creationDate) };
    }
    throw new SfnError('StateMachineAlreadyExists', `State Machine Already Exists: '${arn}'`);
  }
  const creationDate = Date.now();
  emu.stateMachines.set(arn, { arn, name, definitionText, definition, roleArn, type: 'STANDARD', creationDate, executions: new Set() });
  return { stateMachineArn: arn, creationDate: epochSeconds(creationDate) };
}

function find(emu: Emulator, body: Body) {
  const arn = reqString(body, 'stateMachineArn', 1, 256);
  requireArn(arn, 'stateMachine');
  const sm = emu.stateMachines.get(arn);
  if (!sm) throw new SfnError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
  return sm;
}

export function describeStateMachine(emu: Emulator, body: Body) {
  const sm = find(emu, body);
  return {
    stateMachineArn: sm.arn,
    name: sm.name,
    status: 'ACTIVE',
    definition: sm.definitionText,
    roleArn: sm.roleArn,
    type: sm.type,
    creationDate: epochSeconds(sm.creationDate),
    loggingConfiguration: { level: 'OFF', includeExecutionData: false },
  };
}

export function listStateMachines(emu: Emulator, body: Body) {
  const all = [...emu.stateMachines.values()].sort((a, b) => a.name.localeCompare(b.name));
  const { page, nextToken } = paginate(body, 'stateMachines', all);
  return {
    stateMachines: page.map((s) => ({ stateMachineArn: s.arn, name: s.name, type: s.type, creationDate: epochSeconds(s.creationDate) })),
    nextToken,
  };
}

/** Deletion is idempotent; running executions keep running (AWS marks the machine DELETING meanwhile). */
export function deleteStateMachine(emu: Emulator, body: Body) {
  const arn = reqString(body, 'stateMachineArn', 1, 256);
  requireArn(arn, 'stateMachine');
  emu.stateMachines.delete(arn);
  return {};
}
