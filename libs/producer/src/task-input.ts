/**
 * The child job's `data`: the task input parsed as JSON. Step Functions always sends JSON, but a
 * value that does not parse is passed on as the raw string rather than dropped (documented).
 */
export function parseTaskInput(input: string | undefined): unknown {
  if (input === undefined || input === '') return null;
  try {
    return JSON.parse(input);
  } catch {
    return input;
  }
}
