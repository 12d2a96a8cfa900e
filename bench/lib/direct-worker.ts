/**
 * The baseline the bridge is judged against: a hand-written activity worker with the AWS SDK only
 * (GetActivityTask, parse the input, no-op, SendTaskSuccess), BENCH_CONCURRENCY loops (default 32)
 * on one keep-alive client (per activity: ACTIVITY_ARN may list several, comma-separated, as the
 * idle phase's baseline does). Run as its own process so its CPU is read from /proc.
 *
 * With LATENCY_FILE set it also notes, per task, when the task was in hand (GetActivityTask answered)
 * and when the no-op was done (SendTaskSuccess about to be sent), and writes them there on SIGTERM:
 * the direct side of the bench's latency rows (bench/phases/latency.ts).
 *
 *   env: SFN_ENDPOINT, ACTIVITY_ARN, BENCH_CONCURRENCY, LATENCY_FILE
 */
import { GetActivityTaskCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Agent } from 'node:http';

const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 32);
const activityArns = process.env.ACTIVITY_ARN!.split(',');
const latencyFile = process.env.LATENCY_FILE;
/** token, in hand (ms), done (ms): flat, so noting a task allocates next to nothing. */
const noted: (string | number)[] = [];
const client = new SFNClient({
  region: 'us-east-1',
  endpoint: process.env.SFN_ENDPOINT,
  credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets: concurrency * activityArns.length * 2 }) }),
});

let stopping = false;
async function loop(activityArn: string): Promise<void> {
  while (!stopping) {
    const task = await client.send(new GetActivityTaskCommand({ activityArn, workerName: 'direct' }));
    if (!task.taskToken) continue;
    const inHand = Date.now();
    const input = JSON.parse(task.input ?? 'null') as { i?: number } | null;
    if (latencyFile) noted.push(task.taskToken, inHand, Date.now());
    await client.send(new SendTaskSuccessCommand({ taskToken: task.taskToken, output: JSON.stringify({ i: input?.i, ok: true }) }));
  }
}

process.on('SIGTERM', () => {
  stopping = true;
  if (latencyFile) {
    const tasks: { tokenHash: string; inHand: number; done: number }[] = [];
    for (let i = 0; i < noted.length; i += 3) {
      const tokenHash = createHash('sha256')
        .update(noted[i] as string)
        .digest('hex');
      tasks.push({ tokenHash, inHand: noted[i + 1] as number, done: noted[i + 2] as number });
    }
    writeFileSync(latencyFile, JSON.stringify(tasks));
  }
  process.exit(0);
});
for (let i = 0; i < concurrency * activityArns.length; i++) {
  loop(activityArns[i % activityArns.length]).catch((err: Error) => {
    console.error(`direct worker loop failed: ${err.stack}`);
    process.exit(1);
  });
}
console.log(`direct worker ready (${concurrency} loops)`);
