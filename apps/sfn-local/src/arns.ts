import { invalidArn } from './errors';

export type ArnKind = 'activity' | 'stateMachine' | 'execution';

export interface Account {
  region: string;
  accountId: string;
}

export const activityArn = (a: Account, name: string) => `arn:aws:states:${a.region}:${a.accountId}:activity:${name}`;
export const stateMachineArn = (a: Account, name: string) => `arn:aws:states:${a.region}:${a.accountId}:stateMachine:${name}`;
export const executionArn = (a: Account, sm: string, name: string) => `arn:aws:states:${a.region}:${a.accountId}:execution:${sm}:${name}`;

const ARN = /^arn:aws[a-z-]*:states:([a-z0-9-]+):(\d{12}):(activity|stateMachine|execution):([^:]+)(?::([^:]+))?$/;

export interface ParsedArn {
  region: string;
  accountId: string;
  kind: ArnKind;
  name: string;
  sub?: string;
}

export function parseArn(arn: string): ParsedArn | undefined {
  const m = ARN.exec(arn);
  if (!m) return undefined;
  return { region: m[1], accountId: m[2], kind: m[3] as ArnKind, name: m[4], sub: m[5] };
}

/** Validates an ARN of the given kind, throwing `InvalidArn` as AWS does for a malformed or wrong-kind ARN. */
export function requireArn(arn: string, kind: ArnKind): ParsedArn {
  const p = parseArn(arn);
  if (!p || p.kind !== kind || (kind === 'execution') !== (p.sub !== undefined)) throw invalidArn(arn);
  return p;
}
