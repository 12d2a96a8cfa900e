/**
 * Service errors, rendered as HTTP 400 `{"__type": name, "message": ...}` (awsJson1_0), which
 * `@aws-sdk/client-sfn` maps to its named exception classes by `__type`.
 */
export class SfnError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
  }

  body(): string {
    return JSON.stringify({ __type: this.type, message: this.message, ...this.extra });
  }
}

export const validation = (message: string, reason?: string) =>
  new SfnError('ValidationException', message, 400, reason ? { reason } : undefined);

/** The wording AWS uses for a model constraint violation. */
export const constraint = (field: string, value: unknown, rule: string) =>
  validation(
    `1 validation error detected: Value ${value === undefined || value === null ? 'null' : `'${String(value).slice(0, 80)}'`} at '${field}' failed to satisfy constraint: ${rule}`,
  );

export const invalidArn = (message: string) => new SfnError('InvalidArn', `Invalid Arn: '${message}'`);
export const invalidToken = (message = 'Invalid Token') => new SfnError('InvalidToken', message);
export const invalidName = (message: string) => new SfnError('InvalidName', `Invalid Name: '${message}'`);
export const invalidDefinition = (message: string) => new SfnError('InvalidDefinition', `Invalid State Machine Definition: '${message}'`);
export const unknownOperation = (action: string) => new SfnError('UnknownOperationException', `Unknown operation ${action}`);
