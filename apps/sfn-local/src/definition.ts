import { invalidDefinition } from './errors';
import { parseResultPath, ResultPath } from './result-path';

/**
 * Amazon States Language, the subset sfn-local runs: Task states on activity ARNs (TimeoutSeconds,
 * HeartbeatSeconds, Retry, Catch, ResultPath), Pass (Result, ResultPath), Succeed and Fail.
 * Anything else is rejected with InvalidDefinition naming the field, never ignored.
 */
export interface Retrier {
  errorEquals: string[];
  intervalSeconds: number;
  maxAttempts: number;
  backoffRate: number;
  maxDelaySeconds?: number;
  jitter: 'FULL' | 'NONE';
}
export interface Catcher {
  errorEquals: string[];
  next: string;
  resultPath: ResultPath;
}
interface Base {
  name: string;
  next?: string;
}
export interface TaskState extends Base {
  type: 'Task';
  resource: string;
  timeoutSeconds?: number;
  heartbeatSeconds?: number;
  retry: Retrier[];
  catch: Catcher[];
  resultPath: ResultPath;
}
export interface PassState extends Base {
  type: 'Pass';
  result?: { value: unknown };
  resultPath: ResultPath;
}
export interface SucceedState extends Base {
  type: 'Succeed';
}
export interface FailState extends Base {
  type: 'Fail';
  error?: string;
  cause?: string;
}
export type State = TaskState | PassState | SucceedState | FailState;
export interface Definition {
  startAt: string;
  states: Map<string, State>;
  timeoutSeconds?: number;
}

const ACTIVITY = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:activity:[^:]+$/;
const MAX_SECONDS = 99_999_999;
const TOP = ['StartAt', 'States', 'Comment', 'Version', 'TimeoutSeconds', 'QueryLanguage'];
const FIELDS: Record<string, string[]> = {
  Task: ['Type', 'Comment', 'Next', 'End', 'Resource', 'TimeoutSeconds', 'HeartbeatSeconds', 'Retry', 'Catch', 'ResultPath'],
  Pass: ['Type', 'Comment', 'Next', 'End', 'Result', 'ResultPath'],
  Succeed: ['Type', 'Comment'],
  Fail: ['Type', 'Comment', 'Error', 'Cause'],
};
const RETRY_FIELDS = ['ErrorEquals', 'IntervalSeconds', 'MaxAttempts', 'BackoffRate', 'MaxDelaySeconds', 'JitterStrategy', 'Comment'];
const CATCH_FIELDS = ['ErrorEquals', 'Next', 'ResultPath', 'Comment'];

class Problems {
  list: string[] = [];
  add(where: string, what: string): void {
    this.list.push(`${what} at ${where}`);
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPosInt = (v: unknown, min = 1): v is number => Number.isInteger(v) && (v as number) >= min && (v as number) <= MAX_SECONDS;

export function parseDefinition(text: string): Definition {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw invalidDefinition(`INVALID_JSON_DESCRIPTION: ${(e as Error).message}`);
  }
  const p = new Problems();
  if (!isObj(raw)) throw invalidDefinition('SCHEMA_VALIDATION_FAILED: the definition must be a JSON object');
  for (const k of Object.keys(raw)) if (!TOP.includes(k)) p.add('/', `Field '${k}' is not supported by sfn-local`);
  if (raw.QueryLanguage !== undefined && raw.QueryLanguage !== 'JSONPath') {
    p.add('/QueryLanguage', 'Only JSONPath is supported by sfn-local');
  }
  if (raw.TimeoutSeconds !== undefined && !isPosInt(raw.TimeoutSeconds))
    p.add('/TimeoutSeconds', 'TimeoutSeconds must be a positive integer');
  if (typeof raw.StartAt !== 'string') p.add('/StartAt', "Required field 'StartAt' must be a string");
  const states = new Map<string, State>();
  if (!isObj(raw.States) || Object.keys(raw.States).length === 0) {
    p.add('/States', "Required field 'States' must be a non-empty object");
  } else {
    for (const [name, s] of Object.entries(raw.States)) {
      const st = parseState(name, s, p);
      if (st) states.set(name, st);
    }
  }
  if (typeof raw.StartAt === 'string' && isObj(raw.States) && !(raw.StartAt in raw.States)) {
    p.add('/StartAt', `MISSING_TRANSITION_TARGET: StartAt '${raw.StartAt}' is not a state`);
  }
  for (const s of states.values()) {
    const targets = [s.next, ...(s.type === 'Task' ? s.catch.map((c) => c.next) : [])];
    for (const t of targets)
      if (t !== undefined && !states.has(t)) p.add(`/States/${s.name}`, `MISSING_TRANSITION_TARGET: '${t}' is not a state`);
  }
  if (p.list.length === 0) checkReachable(raw.StartAt as string, states, p);
  if (p.list.length) throw invalidDefinition(p.list.join('; '));
  return { startAt: raw.StartAt as string, states, timeoutSeconds: raw.TimeoutSeconds as number | undefined };
}

function parseState(name: string, s: unknown, p: Problems): State | undefined {
  const at = `/States/${name}`;
  if (name.length > 80) p.add(at, 'State names must be at most 80 characters');
  if (!isObj(s)) return void p.add(at, 'A state must be an object');
  const type = s.Type;
  if (typeof type !== 'string' || !FIELDS[type]) {
    return void p.add(`${at}/Type`, `State type '${String(type)}' is not supported by sfn-local (supported: Task, Pass, Succeed, Fail)`);
  }
  for (const k of Object.keys(s))
    if (!FIELDS[type].includes(k)) p.add(`${at}/${k}`, `Field '${k}' is not supported by sfn-local in a ${type} state`);
  let next: string | undefined;
  if (type === 'Task' || type === 'Pass') {
    const hasNext = s.Next !== undefined;
    const end = s.End === true;
    if (s.End !== undefined && typeof s.End !== 'boolean') p.add(`${at}/End`, 'End must be a boolean');
    if (hasNext === end) p.add(at, "A state must have exactly one of 'Next' or 'End: true'");
    if (hasNext && typeof s.Next !== 'string') p.add(`${at}/Next`, 'Next must be a string');
    next = hasNext ? (s.Next as string) : undefined;
  }
  const resultPath = () => parseResultPath(s.ResultPath, `${at}/ResultPath`, (w, m) => p.add(w, m));
  switch (type) {
    case 'Task': {
      if (typeof s.Resource !== 'string' || !ACTIVITY.test(s.Resource)) {
        p.add(`${at}/Resource`, `Resource '${String(s.Resource)}' is not an activity ARN; sfn-local only runs activity tasks`);
      }
      const t = s.TimeoutSeconds,
        h = s.HeartbeatSeconds;
      if (t !== undefined && !isPosInt(t)) p.add(`${at}/TimeoutSeconds`, 'TimeoutSeconds must be a positive integer');
      if (h !== undefined && !isPosInt(h)) p.add(`${at}/HeartbeatSeconds`, 'HeartbeatSeconds must be a positive integer');
      if (isPosInt(h) && h >= (isPosInt(t) ? t : MAX_SECONDS))
        p.add(`${at}/HeartbeatSeconds`, 'HeartbeatSeconds must be smaller than TimeoutSeconds');
      return {
        type,
        name,
        next,
        resource: s.Resource as string,
        timeoutSeconds: t as number | undefined,
        heartbeatSeconds: h as number | undefined,
        retry: parseRetry(s.Retry, `${at}/Retry`, p),
        catch: parseCatch(s.Catch, `${at}/Catch`, p),
        resultPath: resultPath(),
      };
    }
    case 'Pass':
      return { type, name, next, result: 'Result' in s ? { value: s.Result } : undefined, resultPath: resultPath() };
    case 'Succeed':
      return { type, name };
    default:
      if (s.Error !== undefined && typeof s.Error !== 'string') p.add(`${at}/Error`, 'Error must be a string');
      if (s.Cause !== undefined && typeof s.Cause !== 'string') p.add(`${at}/Cause`, 'Cause must be a string');
      return { type: 'Fail', name, error: s.Error as string | undefined, cause: s.Cause as string | undefined };
  }
}

function parseErrorEquals(v: unknown, at: string, p: Problems, last: boolean): string[] {
  if (!Array.isArray(v) || v.length === 0 || !v.every((e) => typeof e === 'string')) {
    p.add(`${at}/ErrorEquals`, 'ErrorEquals must be a non-empty array of strings');
    return [];
  }
  if (v.includes('States.ALL') && (v.length > 1 || !last)) {
    p.add(`${at}/ErrorEquals`, 'States.ALL must appear alone and in the last retrier/catcher');
  }
  return v as string[];
}

function parseRetry(v: unknown, at: string, p: Problems): Retrier[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    p.add(at, 'Retry must be an array');
    return [];
  }
  return v.map((r, i) => {
    const w = `${at}/${i}`;
    if (!isObj(r)) return void p.add(w, 'A retrier must be an object') as never;
    for (const k of Object.keys(r))
      if (!RETRY_FIELDS.includes(k)) p.add(`${w}/${k}`, `Field '${k}' is not supported by sfn-local in a retrier`);
    if (r.IntervalSeconds !== undefined && !isPosInt(r.IntervalSeconds))
      p.add(`${w}/IntervalSeconds`, 'IntervalSeconds must be a positive integer');
    if (r.MaxAttempts !== undefined && !isPosInt(r.MaxAttempts, 0)) p.add(`${w}/MaxAttempts`, 'MaxAttempts must be a non-negative integer');
    if (r.BackoffRate !== undefined && !(typeof r.BackoffRate === 'number' && r.BackoffRate >= 1))
      p.add(`${w}/BackoffRate`, 'BackoffRate must be a number >= 1.0');
    if (r.MaxDelaySeconds !== undefined && !isPosInt(r.MaxDelaySeconds))
      p.add(`${w}/MaxDelaySeconds`, 'MaxDelaySeconds must be a positive integer');
    if (r.JitterStrategy !== undefined && r.JitterStrategy !== 'FULL' && r.JitterStrategy !== 'NONE')
      p.add(`${w}/JitterStrategy`, 'JitterStrategy must be FULL or NONE');
    return {
      errorEquals: parseErrorEquals(r.ErrorEquals, w, p, i === v.length - 1),
      intervalSeconds: (r.IntervalSeconds as number) ?? 1,
      maxAttempts: (r.MaxAttempts as number) ?? 3,
      backoffRate: (r.BackoffRate as number) ?? 2,
      maxDelaySeconds: r.MaxDelaySeconds as number | undefined,
      jitter: (r.JitterStrategy as 'FULL' | 'NONE') ?? 'NONE',
    };
  });
}

function parseCatch(v: unknown, at: string, p: Problems): Catcher[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    p.add(at, 'Catch must be an array');
    return [];
  }
  return v.map((c, i) => {
    const w = `${at}/${i}`;
    if (!isObj(c)) return void p.add(w, 'A catcher must be an object') as never;
    for (const k of Object.keys(c))
      if (!CATCH_FIELDS.includes(k)) p.add(`${w}/${k}`, `Field '${k}' is not supported by sfn-local in a catcher`);
    if (typeof c.Next !== 'string') p.add(`${w}/Next`, "A catcher needs a 'Next' string");
    return {
      errorEquals: parseErrorEquals(c.ErrorEquals, w, p, i === v.length - 1),
      next: c.Next as string,
      resultPath: parseResultPath(c.ResultPath, `${w}/ResultPath`, (x, m) => p.add(x, m)),
    };
  });
}

function checkReachable(start: string, states: Map<string, State>, p: Problems): void {
  const seen = new Set<string>([start]);
  const todo = [start];
  while (todo.length) {
    const s = states.get(todo.pop()!)!;
    const targets = [s.next, ...(s.type === 'Task' ? s.catch.map((c) => c.next) : [])];
    for (const t of targets) if (t !== undefined && !seen.has(t)) (seen.add(t), todo.push(t));
  }
  for (const name of states.keys())
    if (!seen.has(name)) p.add(`/States/${name}`, `MISSING_TRANSITION_TARGET: State '${name}' is not reachable`);
}

/** Does an error name match a retrier's or catcher's ErrorEquals? */
export function errorMatches(errorEquals: string[], error: string): boolean {
  const timeout = error === 'States.Timeout' || error === 'States.HeartbeatTimeout';
  for (const e of errorEquals) {
    if (e === error) return true;
    if (e === 'States.ALL' && error !== 'States.Runtime') return true;
    if (e === 'States.Timeout' && timeout) return true;
    if (e === 'States.TaskFailed' && !timeout && error !== 'States.Runtime') return true;
  }
  return false;
}
