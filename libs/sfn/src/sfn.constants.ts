/** DI token of the SFN client used only for GetActivityTask long polls (its own socket pool). */
export const SFN_POLL_CLIENT = Symbol('SFN_POLL_CLIENT');
/** DI token of the SFN client used for SendTaskSuccess/Failure/Heartbeat (a pool polls never touch). */
export const SFN_CALLBACK_CLIENT = Symbol('SFN_CALLBACK_CLIENT');
/** DI token of the SFN client for SendTaskHeartbeat: the callbacks' socket pool, one attempt (the heartbeat schedule retries). */
export const SFN_HEARTBEAT_CLIENT = Symbol('SFN_HEARTBEAT_CLIENT');

/** Step Functions holds a poll up to 60 s; the socket must outlive it (docs/design.md section 3). */
export const POLL_REQUEST_TIMEOUT_MS = 65_000;
/** Callbacks are small; a slow one is retried rather than waited on. */
export const CALLBACK_REQUEST_TIMEOUT_MS = 10_000;
export const CONNECT_TIMEOUT_MS = 5_000;
