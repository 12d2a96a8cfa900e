import { SFN_LIMITS, groupDigits, utf8Bytes } from './limits';
import { TaskOutcome, bridgeFailure } from './task-outcome';

/**
 * Maps a job's return value to a task outcome.
 *
 * `output = JSON.stringify(returnValue ?? null)`. A value JSON cannot represent
 * (BigInt, circular structure, a bare function or symbol, a `toJSON` that throws)
 * gives `Bridge.OutputNotSerializable`; JSON over 262,144 UTF-8 bytes gives
 * `Bridge.OutputTooLarge`. Both causes say why, the latter with the actual size.
 */
export function successOutcome(returnValue: unknown): TaskOutcome {
  let output: string | undefined;
  try {
    output = JSON.stringify(returnValue ?? null);
  } catch (err) {
    return bridgeFailure(
      'OutputNotSerializable',
      `job return value (${describeType(returnValue)}) cannot be serialised to JSON: ${describeError(err)}`,
    );
  }
  if (output === undefined) {
    return bridgeFailure(
      'OutputNotSerializable',
      `job return value (${describeType(returnValue)}) has no JSON representation (JSON.stringify returned undefined)`,
    );
  }

  const limit = SFN_LIMITS.outputBytes;
  // A UTF-16 code unit takes at most 3 UTF-8 bytes (a surrogate pair: 4 bytes for 2 units),
  // so short strings cannot exceed the limit and need no byte count.
  if (output.length * 3 > limit) {
    const bytes = utf8Bytes(output);
    if (bytes > limit) {
      return bridgeFailure(
        'OutputTooLarge',
        `job returned ${groupDigits(bytes)} bytes of JSON; Step Functions accepts at most ${groupDigits(limit)}`,
      );
    }
  }
  return { kind: 'success', output };
}

// Both helpers run on values that just made JSON.stringify fail (proxies, hostile
// getters), so they must not throw themselves.
function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  try {
    const name: unknown = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === 'string' && name !== '' ? `object ${name}` : 'object';
  } catch {
    return 'object';
  }
}

function describeError(err: unknown): string {
  try {
    if (err instanceof Error) return `${err.name}: ${err.message}`;
    return String(err);
  } catch {
    return 'unknown error';
  }
}
