import { SFNClient } from '@aws-sdk/client-sfn';
import { ManagedChild } from '@bridge/common';
import { BridgeQueue, RelayJobData } from '@bridge/queue';
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SfnLocal, startSfnLocal } from '../../apps/sfn-local/src';
import { BridgeProcess, bridgeEnv, spawnBridge } from '../support/bridge';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../support/redis';
import { createActivityMachine, startExecution, testSfnClient, waitForExecution } from '../support/sfn';
import { within } from '../support/wait-for';
import { OtlpReceiver, ReceivedSpan } from './otlp-receiver';

const BUNDLE = join(__dirname, '../../dist/apps/bridge/main.js');
const WORKER = join(__dirname, '../../examples/node-worker/worker.js');
/** In every task input: must reach no span. */
const PAYLOAD_MARKER = `order-${Date.now().toString(36)}`;
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
 * started here. Each execution gives one trace: receive -> send -> BullMQ's flow spans -> the
 * consumer's `process` span, and the relay's `process` span -> SendTaskSuccess/Failure; no span
 * and no exported byte carries the task token or the payload.
 */
describe('tracing: one trace per Step Functions task, bridge and consumer', () => {
  let receiver: OtlpReceiver;
  let sfnLocal: SfnLocal;
  let sfn: SFNClient;
  let bridge: BridgeProcess;
  let worker: ManagedChild;
  let connection: IORedis;
  let relayQueue: Queue<RelayJobData>;
  const prefix = uniquePrefix('tracing');
  const queue = 'tracing-payments';

  beforeAll(async () => {
    if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: build it first (npm run build, or npm test)`);
    receiver = await OtlpReceiver.start();
    sfnLocal = await startSfnLocal({ pollSeconds: 1, quiet: true });
    sfn = testSfnClient(sfnLocal.url);
    connection = new IORedis(REDIS_URL, { maxRetriesPerRequest: null });
    relayQueue = new Queue(BridgeQueue.Relay, { connection, prefix });
  });

  afterAll(async () => {
    await worker?.close();
    if (bridge && bridge.child.exitCode === null && bridge.child.signalCode === null) {
      bridge.child.kill('SIGTERM');
      await within(bridge.exited, 25_000, 'bridge to exit on SIGTERM').catch(() => bridge.child.kill('SIGKILL'));
    }
    await relayQueue?.close();
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
      bridgeEnv(prefix, sfnLocal.url, [{ activityArn: machine.activityArn, queue, pollers: 1 }], {
        ...otel,
        OTEL_SERVICE_NAME: 'bridge-under-test',
        LOG_LEVEL: 'info',
      }),
    );
    await bridge.waitForOutput(/OpenTelemetry tracing on/, 30_000);
    await bridge.waitForOutput(/Listening on/, 30_000);
    worker = new ManagedChild({
      name: 'node-worker',
      args: [WORKER],
      env: { REDIS_URL, BULLMQ_PREFIX: prefix, QUEUE: queue, CONCURRENCY: '2', OTEL_SERVICE_NAME: 'worker-under-test', ...otel },
      ready: /consuming queue/,
      readyTimeoutMs: 20_000,
    });
    await worker.start();

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
    expect((await waitForExecution(sfn, ok)).status).toBe('SUCCEEDED');
    expect((await waitForExecution(sfn, declined)).status).toBe('FAILED');

    const settleNames = ['SendTaskSuccess tracing-pay', 'SendTaskFailure tracing-pay'].map((n) =>
      n.replace('tracing-pay', machine.activityName),
    );
    const consumerProcess = (s: ReceivedSpan) => s.service === 'worker-under-test' && s.name === `process ${queue}`;
    await receiver.waitFor(
      (spans) => settleNames.every((n) => spans.some((s) => s.name === n)) && spans.filter(consumerProcess).length >= 2,
      'both settle spans and both consumer process spans',
    );
    const spans = receiver.spans;
    expect(receiver.problems).toEqual([]);

    for (const [settleName, outcome] of [
      [settleNames[0], 'success'],
      [settleNames[1], 'failure'],
    ] as const) {
      const settle = spans.find((s) => s.name === settleName)!;
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
      const jobId = receive.attributes['messaging.message.id'];
      expect(typeof jobId).toBe('string');

      const send = trace.find((s) => s.name === `send ${queue}`);
      expect(send && ancestors(send, trace).map(describeSpan)).toEqual([describeSpan(receive)]);
      expect(send!.attributes).toMatchObject({ 'messaging.operation.type': 'send', 'messaging.message.id': jobId });

      // The consumer's span: under BullMQ's addNode of its job, under the bridge's send.
      const consumer = trace.filter(consumerProcess);
      expect({ names, consumers: consumer.length }).toEqual({ names, consumers: 1 });
      expect(consumer[0].kind).toBe(SpanKindConsumer);
      const consumerChain = ancestors(consumer[0], trace).map(describeSpan);
      expect(consumerChain).toEqual(expect.arrayContaining([`bridge-under-test:send ${queue}`, describeSpan(receive)]));
      expect(consumerChain[0]).toBe(`bridge-under-test:addNode ${queue}`);

      // The relay: the bridge's process span of the relay job, then the settle call under it.
      const settleChain = ancestors(settle, trace).map(describeSpan);
      expect(settleChain[0]).toBe(`bridge-under-test:process ${BridgeQueue.Relay}`);
      expect(settleChain).toEqual(expect.arrayContaining([`bridge-under-test:send ${queue}`, describeSpan(receive)]));
      expect(settleChain).not.toContain(describeSpan(consumer[0]));
      const relayProcess = trace.find((s) => describeSpan(s) === settleChain[0])!;
      expect(relayProcess.attributes).toMatchObject({ 'sfn_bridge.relay.status': 'relayed', 'messaging.message.id': jobId });
      expect(settle.attributes).toMatchObject({
        'messaging.operation.type': 'settle',
        'messaging.operation.name': outcome === 'success' ? 'SendTaskSuccess' : 'SendTaskFailure',
        'aws.stepfunctions.activity.arn': machine.activityArn,
        'messaging.message.id': jobId,
      });
      if (outcome === 'failure') expect(settle.attributes['sfn_bridge.task.error']).toBe('PaymentDeclined');
      else expect(settle.attributes['sfn_bridge.task.error']).toBeUndefined();
    }

    // Two tasks, two traces (BullMQ's idle getNextJob polls make traces of their own, not counted).
    const receives = spans.filter((s) => s.name === `receive ${machine.activityName}`);
    expect(new Set(receives.map((s) => s.traceId)).size).toBe(2);

    // No token anywhere: not in a decoded attribute or event of any span, not in the exported bytes.
    const relayJobs = await relayQueue.getJobs(['completed']);
    const tokens = relayJobs.map((j) => j.data.taskToken);
    expect(tokens).toHaveLength(2);
    const text = (s: ReceivedSpan) => JSON.stringify([s.name, s.attributes, s.events, s.status]);
    const hasToken = (t: string) => tokens.some((token) => t.includes(token) || t.includes(token.slice(0, 32)));
    expect(spans.filter((s) => hasToken(text(s))).map(describeSpan)).toEqual([]);
    expect(receiver.rawBodies.filter(hasToken).length).toBe(0);
    // No payload in the bridge's spans. (The consumer's own BullMQ span records its return value
    // as bullmq.job.result: BullMQ's choice, on the consumer's side; the README says so.)
    expect(spans.filter((s) => s.service === 'bridge-under-test' && text(s).includes(PAYLOAD_MARKER)).map(describeSpan)).toEqual([]);
  }, 90_000);
});
