export { SFN_LIMITS, utf8Bytes } from './limits';
export { truncateText } from './truncate';
export { errorNameFromStack } from './error-name';
export { bridgeFailure } from './task-outcome';
export type { BridgeErrorCode, TaskOutcome } from './task-outcome';
export { successOutcome } from './success-outcome';
export { failureOutcome } from './failure-outcome';
