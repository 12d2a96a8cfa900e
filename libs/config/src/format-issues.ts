import type { z } from 'zod';

/**
 * Turns zod issues into one-line problems that name the key: `bindings[1].pollers: must be >= 1
 * (got -2)`. `issueMessage` is passed to `safeParse(..., { error: issueMessage })` so zod's default
 * English is replaced by short, key-first wording; messages set on a schema still win.
 */

type Issue = z.core.$ZodIssue;
type RawIssue = z.core.$ZodRawIssue;

/** Issues carrying `params.hideInput` (or on a secret key) get no "(got ...)" suffix. */
export const HIDE_INPUT = { hideInput: true } as const;

const A_OR_AN: Record<string, string> = {
  int: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  object: 'a mapping (object)',
  array: 'a list',
};

export function issueMessage(iss: RawIssue): string | undefined {
  switch (iss.code) {
    case 'invalid_type':
      if (iss.input === undefined) return 'is required';
      return `must be ${A_OR_AN[iss.expected] ?? iss.expected}`;
    case 'too_small':
      return sizeMessage(iss.origin, iss.inclusive ? '>=' : '>', iss.minimum, 'at least');
    case 'too_big':
      return sizeMessage(iss.origin, iss.inclusive ? '<=' : '<', iss.maximum, 'at most');
    case 'invalid_value':
      return `must be one of ${iss.values.map((v) => String(v)).join(', ')}`;
    case 'invalid_format':
      return `has an invalid format (${iss.format})`;
    case 'unrecognized_keys':
      return 'unknown key';
    case 'invalid_union':
      return 'has an invalid value';
    default:
      return undefined;
  }
}

function sizeMessage(origin: string, op: string, limit: number | bigint, words: string): string {
  if (origin === 'string') {
    return Number(limit) === 1 && op === '>=' ? 'must not be empty' : `must be ${words} ${limit} characters`;
  }
  if (origin === 'array' || origin === 'set') return `must have ${words} ${limit} item${Number(limit) === 1 ? '' : 's'}`;
  return `must be ${op} ${limit}`;
}

/** `['bindings', 1, 'pollers']` -> `bindings[1].pollers`; `[]` -> `root`. */
export function formatPath(path: readonly PropertyKey[], root = '(root)'): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out === '' ? root : out;
}

export function showValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') {
    const shown = value.length > 80 ? `${value.slice(0, 77)}...` : value;
    return JSON.stringify(shown);
  }
  return String(value);
}

export interface FormatOptions {
  /** Label for issues on the document itself (empty path). */
  root?: string;
  /**
   * How to show the offending value of a key: return a string to show, `null` to hide it (secrets).
   * Called with the top-level key of the path; default shows every value.
   */
  show?: (key: string, value: unknown) => string | null;
  /** Suggests the right spelling of an unknown key, given the path of its object. */
  suggest?: (objectPath: readonly PropertyKey[], key: string) => string | undefined;
}

export function formatIssues(issues: readonly Issue[], options: FormatOptions = {}): string[] {
  const out: string[] = [];
  for (const iss of issues) {
    if (iss.code === 'unrecognized_keys') {
      for (const key of iss.keys) {
        const hint = options.suggest?.(iss.path, key);
        out.push(`${formatPath([...iss.path, key], options.root)}: unknown key${hint ? ` (did you mean "${hint}"?)` : ''}`);
      }
      continue;
    }
    const where = formatPath(iss.path, options.root);
    out.push(`${where}: ${iss.message}${gotSuffix(iss, options)}`);
  }
  return out;
}

function gotSuffix(iss: Issue, options: FormatOptions): string {
  if (!('input' in iss) || iss.input === undefined) return '';
  const params = (iss as { params?: Record<string, unknown> }).params;
  if (params?.hideInput) return '';
  const top = iss.path.length > 0 ? String(iss.path[0]) : '';
  const shown = options.show ? options.show(top, iss.input) : showValue(iss.input);
  return shown === null ? '' : ` (got ${shown})`;
}

/** Closest candidate within edit distance 2 (case-insensitive), for "did you mean" hints. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}
