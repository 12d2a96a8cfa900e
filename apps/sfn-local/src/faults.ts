import { SfnError } from './errors';

export type FaultKind = 'throttle' | 'http500' | 'http503' | 'drop' | 'latency';
export const FAULT_KINDS: readonly FaultKind[] = ['throttle', 'http500', 'http503', 'drop', 'latency'];

/**
 * A fault injected on AWS actions. It fires on a call with `probability` (default 1) while its
 * `count` lasts (default: unlimited). `latency` delays the call by `latencyMs` and then lets it
 * (or another fault) proceed; the other kinds answer instead of the action:
 * `throttle` = HTTP 400 ThrottlingException, `http500`/`http503` = that status with an
 * InternalFailure/ServiceUnavailable body, `drop` = the socket is destroyed without an answer.
 * Faults apply before the action runs, so a dropped GetActivityTask never takes a task.
 */
export interface FaultSpec {
  /** An action name such as `GetActivityTask`, or `*` (default) for every AWS action. */
  action?: string;
  kind: FaultKind;
  probability?: number;
  count?: number;
  latencyMs?: number;
}

export interface ActiveFault extends Required<Pick<FaultSpec, 'action' | 'kind' | 'probability'>> {
  id: number;
  /** Remaining firings; `null` = unlimited. */
  remaining: number | null;
  latencyMs: number;
  fired: number;
}

export interface FaultDecision {
  latencyMs: number;
  fault?: Exclude<FaultKind, 'latency'>;
}

export function validateFaultSpec(spec: unknown): FaultSpec {
  const s = spec as FaultSpec;
  if (!s || typeof s !== 'object') throw new SfnError('ValidationException', 'fault spec must be an object');
  if (!FAULT_KINDS.includes(s.kind)) throw new SfnError('ValidationException', `fault kind must be one of ${FAULT_KINDS.join(', ')}`);
  if (s.action !== undefined && typeof s.action !== 'string') throw new SfnError('ValidationException', 'action must be a string');
  if (s.probability !== undefined && !(typeof s.probability === 'number' && s.probability >= 0 && s.probability <= 1)) {
    throw new SfnError('ValidationException', 'probability must be a number in [0, 1]');
  }
  if (s.count !== undefined && !(Number.isInteger(s.count) && s.count >= 0)) {
    throw new SfnError('ValidationException', 'count must be a non-negative integer');
  }
  if (s.kind === 'latency' && !(typeof s.latencyMs === 'number' && s.latencyMs >= 0)) {
    throw new SfnError('ValidationException', 'latency faults need latencyMs >= 0');
  }
  return s;
}

export class Faults {
  private list: ActiveFault[] = [];
  private nextId = 1;

  get active(): boolean {
    return this.list.length > 0;
  }

  add(spec: FaultSpec): ActiveFault {
    const s = validateFaultSpec(spec);
    const f: ActiveFault = {
      id: this.nextId++,
      action: s.action ?? '*',
      kind: s.kind,
      probability: s.probability ?? 1,
      remaining: s.count ?? null,
      latencyMs: s.latencyMs ?? 0,
      fired: 0,
    };
    this.list.push(f);
    return f;
  }

  clear(action?: string): number {
    const before = this.list.length;
    this.list = action ? this.list.filter((f) => f.action !== action) : [];
    return before - this.list.length;
  }

  describe(): ActiveFault[] {
    return this.list.map((f) => ({ ...f }));
  }

  /** Decides what happens to one call. Only called when `active`. */
  decide(action: string, onFire: (kind: FaultKind) => void): FaultDecision {
    const d: FaultDecision = { latencyMs: 0 };
    for (const f of this.list) {
      if (f.action !== '*' && f.action !== action) continue;
      if (f.remaining === 0) continue;
      if (f.kind !== 'latency' && d.fault) continue;
      if (f.probability < 1 && Math.random() >= f.probability) continue;
      if (f.remaining !== null) f.remaining--;
      f.fired++;
      onFire(f.kind);
      if (f.kind === 'latency') d.latencyMs += f.latencyMs;
      else d.fault = f.kind;
    }
    this.list = this.list.filter((f) => f.remaining !== 0);
    return d;
  }
}
