import { SFNClient } from '@aws-sdk/client-sfn';
import { ManagedChild } from '@bridge/common';
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SfnLocal, startSfnLocal } from '../../apps/sfn-local/src';
import { BridgeProcess, bridgeEnv, spawnBridge } from '../support/bridge';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../support/redis';
import { createActivityMachine, startExecution, testSfnClient, waitForExecution } from '../support/sfn';
import { listTaskRecords } from '../support/task-records';
import { waitFor, within } from '../support/wait-for';
import { OtlpReceiver, ReceivedSpan } from './otlp-receiver';

const BUNDLE = join(__dirname, '../../dist/apps/bridge/main.js');
const WORKER = join(__dirname, '../../examples/node-worker/worker.js');
/** In every task input: must reach no span. */
const PAYLOAD_MARKER = `order-${Date.now().toString(36)}`;
const SpanKindProducer = 4;
const SpanKindConsumer = 5;

/** The span's ancestors in the receiver's spans, nearest first. */
function ancestors(span: ReceivedSpan, all: ReceivedSpan[]): ReceivedSpan[] {
  const byId = new Map(all.map((s) => [s.spanId, s]));
  const chain: ReceivedSpan[] = [];
  for (let p = span.parentSpanId && byId.get(span.parentSpanId); p; p = p.parentSpanId && byId.get(p.parentSpanId)) chain.push(p);
  return chain;
}
const describeSpan = (s: ReceivedSpan) => `${s.service}:${s.name}`;

/**
 * Tracing end to end: the built bridge (a child process, tracing on through the standard OTEL_*
 * variables only) and the example Node worker (bullmq-otel) export OTLP/HTTP JSON to a receiver
 * started here. Each execution gives one trace: receive -> send -> BullMQ's `add` of the job ->
 * the consumer's `process` span, and, from the context the task record keeps, send -> the relay's
 * `relay <queue>` span -> SendTaskSuccess/Failure; a task that runs a few heartbeat intervals has
 * its heartbeats as events of one `heartbeats` span; no span and no exported byte carries the task
 * token (read from the task records while the tasks wait) or the payload.
 */
describe('tracing: one trace per Step Functions task, bridge and consumer', () => {
  let receiver: OtlpReceiver;
  let sfnLocal: SfnLocal;
  let sfn: SFNClient;
  let bridge: BridgeProcess;
  let worker: ManagedChild;
  let connection: IORedis;
  let consumerQueue: Queue<{ orderId: string }>;
  const prefix = uniquePrefix('tracing');
  const queue = 'tracing-payments';

  beforeAll(async () => {
    if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: build it first (npm run build, or npm test)`);
    receiver = await OtlpReceiver.start();
    sfnLocal = await startSfnLocal({ pollSeconds: 1, quiet: true });
    sfn = testSfnClient(sfnLocal.url);
    connection = new IORedis(REDIS_URL, { maxRetriesPerRequest: null });
    consumerQueue = new Queue(queue, { connection, prefix });
  });

  afterAll(async () => {
    await worker?.close();
    if (bridge && bridge.child.exitCode === null && bridge.child.signalCode === null) {
      bridge.child.kill('SIGTERM');
      await within(bridge.exited, 25_000, 'bridge to exit on SIGTERM').catch(() => bridge.child.kill('SIGKILL'));
    }
    await consumerQueue?.close();
    await connection?.quit();
    await sfnLocal?.close();
    sfn?.destroy();
    await receiver?.close();
    await cleanupPrefix(prefix);
  });

  it('links the GetActivityTask, the enqueue, the consumer and the relay in one trace per task, with no token in any span', async () => {
    const machine = await createActivityMachine(sfn, 'tracing-pay');
    // Only the SDK's own variables: the endpoint switches tracing on.
    const otel = {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    };
    bridge = spawnBridge(
      // Heartbeats every second; progress makes one due at once, then not again for 10 s.
      bridgeEnv(prefix, sfnLocal.url, [{ activityArn: machine.activityArn, queue, pollers: 1, heartbeatSeconds: 1 }], {
        ...otel,
        HEARTBEAT_PROGRESS_MIN_INTERVAL_MS: '10000',
        OTEL_SERVICE_NAME: 'bridge-under-test',
        LOG_LEVEL: 'info',
      }),
    );
    await bridge.waitForOutput(/OpenTelemetry tracing on/, 30_000);
    await bridge.waitForOutput(/Listening on/, 30_000);
    const ok = await startExecution(sfn, machine.stateMachineArn, {
      orderId: `${PAYLOAD_MARKER}-ok`,
      amountCents: 500,
      card: '4242424242424242',
    });
    const declined = await startExecution(sfn, machine.stateMachineArn, {
      orderId: `${PAYLOAD_MARKER}-no`,
      amountCents: 500,
      card: '4000000000000002',
    });
    // The worker takes 5 s (progress at each quarter): a few periodic heartbeats' worth.
    const slow = await startExecution(sfn, machine.stateMachineArn, {
      orderId: `${PAYLOAD_MARKER}-slow`,
      amountCents: 500,
      card: '4242424242424242',
      workMs: 5_000,
    });
    // The tokens, from the task records while the three jobs wait for the worker (a record drops
    // its token when it closes); the worker starts once they are read.
    const tokens = await waitFor(
      async () => {
        const records = [...(await listTaskRecords(connection, prefix)).values()];
        return records.length === 3 && records.every((r) => r.token) ? records.map((r) => r.token) : undefined;
      },
      { timeoutMs: 10_000, message: 'the three task records with their tokens' },
    );
    worker = new ManagedChild({
      name: 'node-worker',
      args: [WORKER],
      env: { REDIS_URL, BULLMQ_PREFIX: prefix, QUEUE: queue, CONCURRENCY: '2', OTEL_SERVICE_NAME: 'worker-under-test', ...otel },
      ready: /consuming queue/,
      readyTimeoutMs: 20_000,
    });
    await worker.start();
    expect((await waitForExecution(sfn, ok)).status).toBe('SUCCEEDED');
    expect((await waitForExecution(sfn, declined)).status).toBe('FAILED');
    expect((await waitForExecution(sfn, slow)).status).toBe('SUCCEEDED');

    // Each execution's job id (its consumer job carries the order id).
    const consumerJobs = await consumerQueue.getJobs(['completed', 'failed']);
    const jobIdOf = (suffix: string) => consumerJobs.find((j) => j.data.orderId === `${PAYLOAD_MARKER}-${suffix}`)?.id;
    const [okJob, declinedJob, slowJob] = ['ok', 'no', 'slow'].map(jobIdOf);
    expect({ okJob, declinedJob, slowJob, jobs: consumerJobs.length }).toEqual({
      okJob: expect.any(String),
      declinedJob: expect.any(String),
      slowJob: expect.any(String),
      jobs: 3,
    });

    const settleName = (outcome: 'success' | 'failure') =>
      `${outcome === 'success' ? 'SendTaskSuccess' : 'SendTaskFailure'} ${machine.activityName}`;
    const settleOf = (spans: ReceivedSpan[], jobId: string, outcome: 'success' | 'failure') =>
      spans.find((s) => s.name === settleName(outcome) && s.attributes['messaging.message.id'] === jobId);
    const heartbeatsName = `heartbeats ${machine.activityName}`;
    const consumerProcess = (s: ReceivedSpan) => s.service === 'worker-under-test' && s.name === `process ${queue}`;
    await receiver.waitFor(
      (spans) =>
        Boolean(settleOf(spans, okJob!, 'success') && settleOf(spans, declinedJob!, 'failure') && settleOf(spans, slowJob!, 'success')) &&
        spans.filter(consumerProcess).length >= 3 &&
        // A relay span ends after its settle call, and may come in a later export.
        [okJob, declinedJob, slowJob].every((id) =>
          spans.some((s) => s.name === `relay ${queue}` && s.attributes['messaging.message.id'] === id),
        ) &&
        spans.some((s) => s.name === heartbeatsName && s.attributes['messaging.message.id'] === slowJob),
      'the three settle and relay spans, the three consumer process spans and the slow task heartbeats span',
    );
    const spans = receiver.spans;
    expect(receiver.problems).toEqual([]);

    for (const [jobId, outcome] of [
      [okJob!, 'success'],
      [declinedJob!, 'failure'],
      [slowJob!, 'success'],
    ] as const) {
      const settle = settleOf(spans, jobId, outcome)!;
      const trace = spans.filter((s) => s.traceId === settle.traceId);
      const names = trace.map(describeSpan);
      const root = trace.filter((s) => !s.parentSpanId || !trace.some((p) => p.spanId === s.parentSpanId));
      // One root: the GetActivityTask that returned the task.
      expect(root.map(describeSpan)).toEqual([`bridge-under-test:receive ${machine.activityName}`]);
      const receive = root[0];
      expect(receive.attributes).toMatchObject({
        'messaging.operation.type': 'receive',
        'messaging.operation.name': 'GetActivityTask',
        'aws.stepfunctions.activity.arn': machine.activityArn,
        'sfn_bridge.binding': machine.activityName,
        'sfn_bridge.queue': queue,
      });
      expect(receive.attributes['messaging.message.id']).toBe(jobId);

      const send = trace.find((s) => s.name === `send ${queue}`);
      expect(send && ancestors(send, trace).map(describeSpan)).toEqual([describeSpan(receive)]);
      expect(send!.attributes).toMatchObject({ 'messaging.operation.type': 'send', 'messaging.message.id': jobId });

      // The consumer's span: under BullMQ's `add` of its job, under the bridge's send.
      const consumer = trace.filter(consumerProcess);
      expect({ names, consumers: consumer.length }).toEqual({ names, consumers: 1 });
      expect(consumer[0].kind).toBe(SpanKindConsumer);
      expect(ancestors(consumer[0], trace).map(describeSpan)).toEqual([
        `bridge-under-test:add ${queue}.${machine.activityName}`,
        `bridge-under-test:send ${queue}`,
        describeSpan(receive),
      ]);
      const add = trace.find((s) => s.spanId === consumer[0].parentSpanId)!;
      expect(add.kind).toBe(SpanKindProducer);

      // The relay: one `relay <queue>` span under send (the context the task record keeps), the
      // settle call under it, beside the consumer's spans, not under them.
      const relays = trace.filter((s) => s.name === `relay ${queue}`);
      expect({ names, relays: relays.length }).toEqual({ names, relays: 1 });
      const relay = relays[0];
      expect(ancestors(relay, trace).map(describeSpan)).toEqual([`bridge-under-test:send ${queue}`, describeSpan(receive)]);
      expect(relay.kind).toBe(SpanKindConsumer);
      expect(relay.attributes).toMatchObject({
        'sfn_bridge.relay.status': 'relayed',
        'messaging.message.id': jobId,
        'sfn_bridge.binding': machine.activityName,
        'sfn_bridge.queue': queue,
      });
      expect(ancestors(settle, trace).map(describeSpan)).toEqual([
        describeSpan(relay),
        `bridge-under-test:send ${queue}`,
        describeSpan(receive),
      ]);
      // The whole trace (this replica's `heartbeats` span aside: the slow task's is checked below):
      // one job `add`, no flow (addFlow / addNode) and no relay job (a bridge `process` span).
      expect(names.filter((n) => n !== `bridge-under-test:${heartbeatsName}`).sort()).toEqual(
        [
          describeSpan(receive),
          `bridge-under-test:send ${queue}`,
          `bridge-under-test:add ${queue}.${machine.activityName}`,
          `worker-under-test:process ${queue}`,
          `worker-under-test:${outcome === 'success' ? 'complete' : 'fail'} ${queue}`,
          `bridge-under-test:relay ${queue}`,
          `bridge-under-test:${settleName(outcome)}`,
        ].sort(),
      );
      expect(settle.attributes).toMatchObject({
        'messaging.operation.type': 'settle',
        'messaging.operation.name': outcome === 'success' ? 'SendTaskSuccess' : 'SendTaskFailure',
        'aws.stepfunctions.activity.arn': machine.activityArn,
        'messaging.message.id': jobId,
      });
      if (outcome === 'failure') expect(settle.attributes['sfn_bridge.task.error']).toBe('PaymentDeclined');
      else expect(settle.attributes['sfn_bridge.task.error']).toBeUndefined();
    }

    // Three tasks, three traces (BullMQ's idle getNextJob polls make traces of their own, not counted).
    const receives = spans.filter((s) => s.name === `receive ${machine.activityName}`);
    expect(new Set(receives.map((s) => s.traceId)).size).toBe(3);

    // The slow task's heartbeats: events of one span beside `send`, under `receive` (one replica).
    const slowTrace = settleOf(spans, slowJob!, 'success')!.traceId;
    const heartbeatSpans = spans.filter((s) => s.name === heartbeatsName && s.traceId === slowTrace);
    expect(heartbeatSpans.map((s) => ancestors(s, spans).map(describeSpan))).toEqual([
      [`bridge-under-test:receive ${machine.activityName}`],
    ]);
    expect(heartbeatSpans[0].attributes).toMatchObject({
      'messaging.operation.name': 'SendTaskHeartbeat',
      'messaging.message.id': slowJob,
      'aws.stepfunctions.activity.arn': machine.activityArn,
      'sfn_bridge.queue': queue,
    });
    const triggers = heartbeatSpans[0].events.map(
      (e) => `${e.name}:${String(e.attributes['sfn_bridge.heartbeat.result'])}:${String(e.attributes['sfn_bridge.heartbeat.trigger'])}`,
    );
    // At least two on the schedule (5 s of work, 1 s interval) and the one the first progress made due.
    const scheduled = triggers.filter((t) => t === 'heartbeat:ok:schedule').length;
    expect({ triggers, twoScheduled: scheduled >= 2, fromProgress: triggers.includes('heartbeat:ok:progress') }).toEqual({
      triggers,
      twoScheduled: true,
      fromProgress: true,
    });
    expect(triggers.filter((t) => !/^heartbeat:ok:(schedule|progress)$/.test(t))).toEqual([]);
    // No other span of the trace has a heartbeat event (nothing went twice), and no heartbeat is a span.
    expect(
      spans
        .filter((s) => s.traceId === slowTrace && s !== heartbeatSpans[0])
        .filter((s) => s.events.some((e) => e.name === 'heartbeat') || /heartbeat/i.test(s.name))
        .map(describeSpan),
    ).toEqual([]);

    // No token anywhere: not in a decoded attribute or event of any span, not in the exported bytes.
    expect(new Set(tokens).size).toBe(3);
    const text = (s: ReceivedSpan) => JSON.stringify([s.name, s.attributes, s.events, s.status]);
    const hasToken = (t: string) => tokens.some((token) => t.includes(token) || t.includes(token.slice(0, 32)));
    expect(spans.filter((s) => hasToken(text(s))).map(describeSpan)).toEqual([]);
    expect(receiver.rawBodies.filter(hasToken).length).toBe(0);
    // No payload in the bridge's spans. (The consumer's own BullMQ span records its return value
    // as bullmq.job.result: BullMQ's choice, on the consumer's side; the README says so.)
    expect(spans.filter((s) => s.service === 'bridge-under-test' && text(s).includes(PAYLOAD_MARKER)).map(describeSpan)).toEqual([]);
  }, 90_000);
});
