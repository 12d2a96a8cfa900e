/**
 * The baseline the bridge is judged against: a hand-written activity worker with the AWS SDK only
 * (GetActivityTask, parse the input, no-op, SendTaskSuccess), BENCH_CONCURRENCY loops (default 32)
 * on one keep-alive client. Run as its own process so its CPU is read from /proc.
 *
 *   env: SFN_ENDPOINT, ACTIVITY_ARN, BENCH_CONCURRENCY
 */
import { GetActivityTaskCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent } from 'node:http';

const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 32);
const activityArn = process.env.ACTIVITY_ARN!;
const client = new SFNClient({
  region: 'us-east-1',
  endpoint: process.env.SFN_ENDPOINT,
  credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets: concurrency * 2 }) }),
});

let stopping = false;
async function loop(): Promise<void> {
  while (!stopping) {
    const task = await client.send(new GetActivityTaskCommand({ activityArn, workerName: 'direct' }));
    if (!task.taskToken) continue;
    const input = JSON.parse(task.input ?? 'null') as { i?: number } | null;
    await client.send(new SendTaskSuccessCommand({ taskToken: task.taskToken, output: JSON.stringify({ i: input?.i, ok: true }) }));
  }
}

process.on('SIGTERM', () => {
  stopping = true;
  process.exit(0);
});
for (let i = 0; i < concurrency; i++) {
  loop().catch((err: Error) => {
    console.error(`direct worker loop failed: ${err.stack}`);
    process.exit(1);
  });
}
console.log(`direct worker ready (${concurrency} loops)`);
