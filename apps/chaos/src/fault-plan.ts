import type { FaultSpec } from '../../sfn-local/src/faults';

/** The ~10 % fault mix on the bridge's calls (never on the driver's own StartExecution/Describe). */
export function faultMix(): FaultSpec[] {
  const out: FaultSpec[] = [
    { action: 'GetActivityTask', kind: 'throttle', probability: 0.05 },
    { action: 'GetActivityTask', kind: 'http500', probability: 0.025 },
    { action: 'GetActivityTask', kind: 'http503', probability: 0.025 },
    { action: 'GetActivityTask', kind: 'latency', probability: 0.01, latencyMs: 1_500 },
    { action: 'SendTaskHeartbeat', kind: 'throttle', probability: 0.05 },
    { action: 'SendTaskHeartbeat', kind: 'http503', probability: 0.05 },
  ];
  for (const action of ['SendTaskSuccess', 'SendTaskFailure']) {
    out.push(
      { action, kind: 'throttle', probability: 0.04 },
      { action, kind: 'http500', probability: 0.02 },
      { action, kind: 'http503', probability: 0.02 },
      { action, kind: 'drop', probability: 0.02 },
    );
  }
  // A slow answer past the bridge's 10 s callback timeout: the emulator still applies the call,
  // the bridge retries, and the retry is answered TaskTimedOut (the ambiguous case, reported).
  out.push({ action: 'SendTaskSuccess', kind: 'latency', probability: 0.001, latencyMs: 11_000 });
  return out;
}
