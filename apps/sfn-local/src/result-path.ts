/** ResultPath in the forms sfn-local supports: `$` (default), `null`, and `$.a.b` (plain field names). */
export type ResultPath = { kind: 'replace' } | { kind: 'discard' } | { kind: 'set'; keys: string[] };

const FIELD_PATH = /^\$(\.[A-Za-z_][A-Za-z0-9_-]*)+$/;

export function parseResultPath(v: unknown, where: string, problem: (where: string, what: string) => void): ResultPath {
  if (v === undefined || v === '$') return { kind: 'replace' };
  if (v === null) return { kind: 'discard' };
  if (typeof v === 'string' && FIELD_PATH.test(v)) return { kind: 'set', keys: v.slice(2).split('.') };
  problem(where, `ResultPath '${String(v)}' is not supported by sfn-local (use '$', null or '$.field.sub')`);
  return { kind: 'replace' };
}

export class ResultPathMatchFailure extends Error {}

/** Combines a state's input and its result as ResultPath says; strings are JSON texts. */
export function applyResultPath(rp: ResultPath, input: string, result: string): string {
  if (rp.kind === 'replace') return result;
  if (rp.kind === 'discard') return input;
  const root = JSON.parse(input) as unknown;
  let node = root as Record<string, unknown>;
  const keys = rp.keys;
  if (typeof node !== 'object' || node === null || Array.isArray(node)) {
    throw new ResultPathMatchFailure(`Unable to apply ResultPath '$.${keys.join('.')}' to input: it is not an object`);
  }
  for (let i = 0; i < keys.length - 1; i++) {
    const child = node[keys[i]];
    if (child === undefined) node = node[keys[i]] = {};
    else if (typeof child === 'object' && child !== null && !Array.isArray(child)) node = child as Record<string, unknown>;
    else throw new ResultPathMatchFailure(`Unable to apply ResultPath '$.${keys.join('.')}': '${keys[i]}' is not an object`);
  }
  node[keys[keys.length - 1]] = JSON.parse(result);
  return JSON.stringify(root);
}
