/**
 * Thrown when the configuration is invalid. `issues` holds one line per problem, each starting with
 * the key it concerns (`PORT: must be an integer (got "abc")`, `bindings[1].pollers: must be >= 1
 * (got -2)`). The message repeats them under a header, one per line. Secrets never appear.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly issues: string[];

  constructor(issues: string[], header = 'Invalid configuration') {
    const list = issues.length > 0 ? issues : ['(no details)'];
    const count = `${list.length} problem${list.length === 1 ? '' : 's'}`;
    super(`${header} (${count}):\n${list.map((issue) => `  - ${issue}`).join('\n')}`);
    this.issues = list;
  }
}
