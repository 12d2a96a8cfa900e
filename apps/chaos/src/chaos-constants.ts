import { resolve } from 'node:path';

/** The repository root: the built bridge and emulator are run from its dist/. */
export const ROOT = resolve(__dirname, '../../..');
/** The bridges' HEARTBEAT_DEFAULT_SECONDS (bindings without their own interval). */
export const BRIDGE_HEARTBEAT_DEFAULT_SECONDS = 1;
