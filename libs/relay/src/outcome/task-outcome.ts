import { SFN_LIMITS } from './limits';
import { truncateText } from './truncate';

/**
 * What the bridge reports to Step Functions for one task token:
 * `success` -> `SendTaskSuccess(output)`, `failure` -> `SendTaskFailure(error, cause)`.
 * Values are already within the Step Functions limits (see `SFN_LIMITS`).
 */
export type TaskOutcome =
  | { kind: 'success'; output: string } // JSON text, <= 262,144 UTF-8 bytes
  | { kind: 'failure'; error: string; cause: string }; // error <= 256 chars, cause <= 32,768 chars

/** Failures raised by the bridge itself; reported as `Bridge.<code>`. */
export type BridgeErrorCode = 'OutputTooLarge' | 'OutputNotSerializable' | 'EnqueueFailed' | 'JobMissing' | 'InputTooLarge' | 'Cancelled';

/** A failure outcome with error `Bridge.<code>` and `cause` truncated to the Step Functions limit. */
export function bridgeFailure(code: BridgeErrorCode, cause: string): TaskOutcome {
  return {
    kind: 'failure',
    error: `Bridge.${code}`,
    cause: truncateText(cause, SFN_LIMITS.causeChars),
  };
}
