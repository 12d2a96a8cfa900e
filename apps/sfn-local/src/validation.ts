import { constraint, invalidName, SfnError } from './errors';

export const MAX_PAYLOAD_BYTES = 262_144;

type Body = Record<string, unknown>;

/** A required string member with AWS's length constraints. */
export function reqString(body: Body, field: string, min: number, max: number): string {
  const v = body[field];
  if (v === undefined || v === null) throw constraint(field, v, 'Member must not be null');
  if (typeof v !== 'string') throw constraint(field, v, 'Member must be a string');
  checkLength(field, v, min, max);
  return v;
}

export function optString(body: Body, field: string, min: number, max: number): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw constraint(field, v, 'Member must be a string');
  checkLength(field, v, min, max);
  return v;
}

export function optInt(body: Body, field: string, min: number, max: number): number | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw constraint(field, v, 'Member must be an integer');
  if (v < min) throw constraint(field, v, `Member must have value greater than or equal to ${min}`);
  if (v > max) throw constraint(field, v, `Member must have value less than or equal to ${max}`);
  return v;
}

export function optBool(body: Body, field: string): boolean | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw constraint(field, v, 'Member must be a boolean');
  return v;
}

function checkLength(field: string, v: string, min: number, max: number): void {
  if (v.length < min) throw constraint(field, v, `Member must have length greater than or equal to ${min}`);
  if (v.length > max) throw constraint(field, v, `Member must have length less than or equal to ${max}`);
}

/** Payloads (input/output) are limited in UTF-8 bytes, not characters. */
export function checkPayloadSize(field: string, v: string): void {
  if (v.length > MAX_PAYLOAD_BYTES / 4 && Buffer.byteLength(v, 'utf8') > MAX_PAYLOAD_BYTES) {
    throw new SfnError(
      'ValidationException',
      `1 validation error detected: Value at '${field}' failed to satisfy constraint: Member must have length less than or equal to ${MAX_PAYLOAD_BYTES} (UTF-8 bytes; got ${Buffer.byteLength(v, 'utf8')})`,
    );
  }
}

export function isJson(v: string): boolean {
  try {
    JSON.parse(v);
    return true;
  } catch {
    return false;
  }
}

// Names: 1-80 chars; no whitespace, brackets, wildcards, special or control characters (AWS naming rules).
const BAD_NAME = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]/;

export function checkName(name: string): void {
  if (name.length < 1 || name.length > 80 || BAD_NAME.test(name)) throw invalidName(name);
}
