import { BindingConfig } from '@bridge/config';
import { BindingCapacity } from './binding-capacity';

/** Live state of one binding's pollers (process-local). */
export class BindingState {
  /** Poll loops running now, between `minPollers` and `maxPollers` (the autoscaler's figure). */
  runningPollers = 0;
  /** Most loops allowed: `pollers` (max); lowered on ActivityWorkerLimitExceeded. */
  maxPollers: number;
  /** This replica's poll slots against maxPending (the exact figure is in Redis). */
  readonly capacity: BindingCapacity;
  /** False while the activity is missing or its ARN invalid. */
  healthy = true;
  lastError?: string;
  /** No poll starts before this time (ms) after a binding-level error. */
  pausedUntil = 0;
  /** When Step Functions last answered a poll (a task, empty, or an AWS error): it was reachable. */
  lastResponseAt?: number;
  /** First of the polls in a row that got no answer at all (network error, timeout); unset after an answer. */
  noAnswerSince?: number;
  /** Polls in a row that got no answer at all. */
  noAnswerCount = 0;

  constructor(readonly config: BindingConfig) {
    this.maxPollers = config.pollers;
    this.capacity = new BindingCapacity(config.maxPending);
  }

  /** Records how a GetActivityTask call ended (no error = answered), for /health/ready. */
  recordPollOutcome(err?: unknown): void {
    const status = (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
    if (err === undefined || typeof status === 'number') {
      this.lastResponseAt = Date.now();
      this.noAnswerSince = undefined;
      this.noAnswerCount = 0;
    } else {
      this.noAnswerSince ??= Date.now();
      this.noAnswerCount++;
    }
  }

  get name(): string {
    return this.config.name;
  }

  /** Pollers an idle binding settles at (never above `maxPollers`). */
  get minPollers(): number {
    return Math.min(this.config.minPollers ?? this.config.pollers, this.maxPollers);
  }

  /** GetActivityTask calls in flight. */
  get parked(): number {
    return this.capacity.parkedPolls;
  }
}
