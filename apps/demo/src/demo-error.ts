/** A problem the user can fix (Redis down, port taken, build missing): printed without a stack. */
export class DemoError extends Error {
  override name = 'DemoError';
}
