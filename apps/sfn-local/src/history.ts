import type { Execution } from './model';

/** One history event as stored; `details` is the value of the `<detailsKey>` member in the wire shape. */
export interface HistoryEvent {
  id: number;
  previousEventId: number;
  timestamp: number;
  type: string;
  detailsKey?: string;
  details?: Record<string, unknown>;
}

/** The SDK's `*EventDetails` member for each event type sfn-local emits. */
const DETAILS_KEY: Record<string, string> = {
  ExecutionStarted: 'executionStartedEventDetails',
  ExecutionSucceeded: 'executionSucceededEventDetails',
  ExecutionFailed: 'executionFailedEventDetails',
  ExecutionAborted: 'executionAbortedEventDetails',
  ExecutionTimedOut: 'executionTimedOutEventDetails',
  TaskStateEntered: 'stateEnteredEventDetails',
  TaskStateExited: 'stateExitedEventDetails',
  PassStateEntered: 'stateEnteredEventDetails',
  PassStateExited: 'stateExitedEventDetails',
  SucceedStateEntered: 'stateEnteredEventDetails',
  SucceedStateExited: 'stateExitedEventDetails',
  FailStateEntered: 'stateEnteredEventDetails',
  ActivityScheduled: 'activityScheduledEventDetails',
  ActivityScheduleFailed: 'activityScheduleFailedEventDetails',
  ActivityStarted: 'activityStartedEventDetails',
  ActivitySucceeded: 'activitySucceededEventDetails',
  ActivityFailed: 'activityFailedEventDetails',
  ActivityTimedOut: 'activityTimedOutEventDetails',
};

export function addEvent(exec: Execution, type: string, details?: Record<string, unknown>, now = Date.now()): HistoryEvent {
  const h = exec.history;
  const e: HistoryEvent = { id: h.length + 1, previousEventId: h.length, timestamp: now, type, detailsKey: DETAILS_KEY[type], details };
  h.push(e);
  return e;
}

const PAYLOAD_FIELDS = ['input', 'output'];

/** The wire form; payloads are left out when includeExecutionData is false. */
export function eventToWire(e: HistoryEvent, includeData: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = { timestamp: e.timestamp / 1000, type: e.type, id: e.id, previousEventId: e.previousEventId };
  if (e.detailsKey && e.details) {
    const d: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(e.details)) {
      if (v === undefined) continue;
      if (PAYLOAD_FIELDS.includes(k)) {
        if (!includeData) continue;
        d[k] = v;
        d[`${k}Details`] = { truncated: false };
      } else {
        d[k] = v;
      }
    }
    out[e.detailsKey] = d;
  }
  return out;
}
