import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Resolution (ms) of the event-loop delay sampling, here and in the liveness check (libs/health):
 * each sample is a timer that wakes the process, so it is kept coarse. Once a second still catches
 * what the checks are for (a loop held up for a second or more, or late for seconds on end: CPU
 * starvation); a single short pause is seen only if it overlaps a sample. Measured (issue 9's
 * idle row; three bridges of each build idling side by side, one binding, one poller): 0.49-0.52 %
 * of a core at 100 ms, 0.39-0.40 % at 1 s.
 */
export const EVENT_LOOP_SAMPLE_MS = 1_000;

/**
 * Seconds. Fine at the low end (1, 2.5, 5 ms ...): a healthy dispatch or relay takes a few
 * milliseconds, and the p99 targets are 5-10 ms, which coarser buckets cannot tell apart.
 */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/**
 * Every Prometheus metric of the bridge, in one registry (no global state, so tests and several
 * app instances in one process do not collide). Labels are bounded: `binding` comes from the
 * config, `error` from SDK error names, `operation` from the four SFN calls.
 */
@Injectable()
export class BridgeMetrics {
  readonly registry = new Registry();

  readonly polls = new Counter({
    name: 'sfn_bridge_polls_total',
    help: 'GetActivityTask calls by result',
    labelNames: ['binding', 'result'],
    registers: [this.registry],
  });
  readonly tasksEnqueued = new Counter({
    name: 'sfn_bridge_tasks_enqueued_total',
    help: 'Tasks written to BullMQ as a flow',
    labelNames: ['binding'],
    registers: [this.registry],
  });
  readonly enqueueFailures = new Counter({
    name: 'sfn_bridge_enqueue_failures_total',
    help: 'Tokens that could not be enqueued and were failed with Bridge.EnqueueFailed',
    labelNames: ['binding'],
    registers: [this.registry],
  });
  readonly relays = new Counter({
    name: 'sfn_bridge_relays_total',
    help: 'Tasks closed, by outcome: success, failure (relayed), expired, recovered, cancelled, abandoned',
    labelNames: ['binding', 'outcome'],
    registers: [this.registry],
  });
  readonly relayErrors = new Counter({
    name: 'sfn_bridge_relay_errors_total',
    help: 'Relay attempts that failed (retried with backoff until RELAY_ATTEMPTS)',
    labelNames: ['binding', 'error'],
    registers: [this.registry],
  });
  readonly heartbeats = new Counter({
    name: 'sfn_bridge_heartbeats_total',
    help: 'SendTaskHeartbeat calls by result: ok, expired (execution gone: task cancelled), closed (the relay had just closed it), error',
    labelNames: ['binding', 'result'],
    registers: [this.registry],
  });
  readonly awsErrors = new Counter({
    name: 'sfn_bridge_aws_errors_total',
    help: 'Errors from Step Functions calls',
    labelNames: ['operation', 'error'],
    registers: [this.registry],
  });
  readonly parkedPolls = new Gauge({
    name: 'sfn_bridge_parked_polls',
    help: 'GetActivityTask calls in flight',
    labelNames: ['binding'],
    registers: [this.registry],
  });
  readonly pollers = new Gauge({
    name: 'sfn_bridge_pollers',
    help: 'Poll loops running (autoscaled between pollers.min and pollers.max)',
    labelNames: ['binding'],
    registers: [this.registry],
  });
  readonly outstandingTasks = new Gauge({
    name: 'sfn_bridge_outstanding_tasks',
    help: 'Tasks taken and not closed, all replicas (the maxPending figure in Redis)',
    labelNames: ['binding'],
    registers: [this.registry],
  });
  readonly bindingHealthy = new Gauge({
    name: 'sfn_bridge_binding_healthy',
    help: '1 when the binding polls normally, 0 when its activity is missing or invalid',
    labelNames: ['binding'],
    registers: [this.registry],
  });
  readonly redisUp = new Gauge({
    name: 'sfn_bridge_redis_up',
    help: '1 when the shared Redis connection is ready, 0 while it is down or reconnecting',
    registers: [this.registry],
  });
  readonly dispatchSeconds = this.histogram('sfn_bridge_dispatch_seconds', 'Token received -> job waiting in BullMQ');
  readonly queueWaitSeconds = this.histogram('sfn_bridge_queue_wait_seconds', 'Job waiting -> first processed by a consumer');
  readonly processingSeconds = this.histogram('sfn_bridge_processing_seconds', 'Consumer processing time of the final attempt');
  readonly relaySeconds = this.histogram('sfn_bridge_relay_seconds', 'Job finished -> SendTask* acknowledged');
  readonly endToEndSeconds = this.histogram('sfn_bridge_end_to_end_seconds', 'Token received -> SendTask* acknowledged');

  constructor() {
    // Node's default metrics keep their standard names (`process_*`, `nodejs_*`), which the
    // runbook's process alarms and common dashboards use. The event-loop lag histogram samples
    // every EVENT_LOOP_SAMPLE_MS instead of prom-client's 10 ms: a timer that woke an idle bridge
    // 100 times a second (issue 9's idle row), for a lag figure read in seconds. Node's histogram
    // records each whole sampling interval, so `nodejs_eventloop_lag_*` read the delay + 1 s (an
    // idle loop: 1.0); the liveness check subtracts it (docs/runbook.md says so for alarms).
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  }

  private histogram(name: string, help: string): Histogram<'binding'> {
    return new Histogram({ name, help, labelNames: ['binding'], buckets: LATENCY_BUCKETS, registers: [this.registry] });
  }
}
