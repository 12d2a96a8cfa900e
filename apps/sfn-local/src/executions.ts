import { randomUUID } from 'node:crypto';
import { executionArn, requireArn } from './arns';
import { SfnError } from './errors';
import type { Emulator } from './emulator';
import { eventToWire } from './history';
import type { Execution, ExecutionStatus } from './model';
import { epochSeconds, paginate } from './pagination';
import { checkName, checkPayloadSize, isJson, optBool, optString, reqString } from './validation';

type Body = Record<string, unknown>;
const STATUSES: ExecutionStatus[] = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'];

export function startExecution(emu: Emulator, body: Body) {
  const smArn = reqString(body, 'stateMachineArn', 1, 256);
  const name = optString(body, 'name', 1, 80) ?? randomUUID();
  const input = optString(body, 'input', 0, Number.MAX_SAFE_INTEGER) ?? '{}';
  requireArn(smArn, 'stateMachine');
  checkName(name);
  checkPayloadSize('input', input);
  const sm = emu.stateMachines.get(smArn);
  if (!sm) throw new SfnError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${smArn}'`);
  if (!isJson(input)) throw new SfnError('InvalidExecutionInput', 'Invalid State Machine Execution Input: the input is not valid JSON');
  const arn = executionArn(emu.account, sm.name, name);
  const existing = emu.executions.get(arn);
  if (existing) {
    // AWS: idempotent for a RUNNING execution started with the same input.
    if (existing.status === 'RUNNING' && existing.input === input)
      return { executionArn: arn, startDate: epochSeconds(existing.startDate) };
    throw new SfnError('ExecutionAlreadyExists', `Execution Already Exists: '${arn}'`);
  }
  const exec: Execution = {
    arn,
    name,
    stateMachine: sm,
    status: 'RUNNING',
    input,
    startDate: Date.now(),
    history: [],
    tasks: [],
    retries: [],
  };
  emu.executions.set(arn, exec);
  sm.executions.add(exec);
  emu.counters.executionsStarted++;
  emu.interpreter.start(exec);
  return { executionArn: arn, startDate: epochSeconds(exec.startDate) };
}

export function findExecution(emu: Emulator, body: Body): Execution {
  const arn = reqString(body, 'executionArn', 1, 256);
  requireArn(arn, 'execution');
  const exec = emu.executions.get(arn);
  if (!exec) throw new SfnError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
  return exec;
}

export function describeExecution(emu: Emulator, body: Body) {
  const e = findExecution(emu, body);
  return {
    executionArn: e.arn,
    stateMachineArn: e.stateMachine.arn,
    name: e.name,
    status: e.status,
    startDate: epochSeconds(e.startDate),
    stopDate: epochSeconds(e.stopDate),
    input: e.input,
    inputDetails: { included: true },
    output: e.output,
    outputDetails: e.output === undefined ? undefined : { included: true },
    error: e.error,
    cause: e.cause,
  };
}

/** Stopping a finished execution changes nothing and answers its stop date. */
export function stopExecution(emu: Emulator, body: Body) {
  const error = optString(body, 'error', 0, 256);
  const cause = optString(body, 'cause', 0, 32_768);
  const e = findExecution(emu, body);
  emu.interpreter.stop(e, error, cause);
  return { stopDate: epochSeconds(e.stopDate) };
}

export function listExecutions(emu: Emulator, body: Body) {
  const smArn = reqString(body, 'stateMachineArn', 1, 256);
  requireArn(smArn, 'stateMachine');
  const status = body.statusFilter;
  if (status !== undefined && !STATUSES.includes(status as ExecutionStatus)) {
    throw new SfnError(
      'ValidationException',
      `1 validation error detected: Value '${String(status)}' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [${STATUSES.join(', ')}]`,
    );
  }
  const sm = emu.stateMachines.get(smArn);
  if (!sm) throw new SfnError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${smArn}'`);
  const all = [...sm.executions].reverse().filter((e) => status === undefined || e.status === status);
  const { page, nextToken } = paginate(body, 'executions', all);
  return {
    executions: page.map((e) => ({
      executionArn: e.arn,
      stateMachineArn: sm.arn,
      name: e.name,
      status: e.status,
      startDate: epochSeconds(e.startDate),
      stopDate: epochSeconds(e.stopDate),
    })),
    nextToken,
  };
}

export function getExecutionHistory(emu: Emulator, body: Body) {
  const e = findExecution(emu, body);
  const reverse = optBool(body, 'reverseOrder') ?? false;
  const includeData = optBool(body, 'includeExecutionData') ?? true;
  const events = reverse ? [...e.history].reverse() : e.history;
  const { page, nextToken } = paginate(body, 'history', events);
  return { events: page.map((ev) => eventToWire(ev, includeData)), nextToken };
}
