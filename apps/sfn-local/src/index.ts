export { startSfnLocal, SfnLocal } from './sfn-local';
export type { SfnLocalOptions } from './sfn-local';
export { SfnLocalControl } from './control-client';
export type { SfnLocalCounters } from './counters';
export type { FaultSpec, FaultKind, ActiveFault } from './faults';
export type { TaskRecord, TaskQuery } from './task-records';
export type { ProcessInfo } from './local-hooks';
export { MAX_PARKED_POLLS } from './activity-queues';
export { TOKEN_LENGTH } from './tokens';
