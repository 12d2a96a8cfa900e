/**
 * The bridge run's consumer: a plain BullMQ worker on the binding queue that returns at once
 * (the same no-op as the direct worker). Its own process, so its CPU is read from /proc.
 *
 *   env: REDIS_URL, BULLMQ_PREFIX, QUEUE, BENCH_CONCURRENCY
 */
import { Worker } from 'bullmq';
import IORedis from 'ioredis';

const connection = new IORedis(process.env.REDIS_URL!, { maxRetriesPerRequest: null });
const worker = new Worker(process.env.QUEUE ?? 'bench', async (job: { data: { i?: number } | null }) => ({ i: job.data?.i, ok: true }), {
  connection,
  prefix: process.env.BULLMQ_PREFIX,
  concurrency: Number(process.env.BENCH_CONCURRENCY ?? 32),
});
worker.on('error', (err) => console.error(`consumer: ${err.message}`));
process.on('SIGTERM', () => {
  void worker.close().finally(() => process.exit(0));
});
void worker.waitUntilReady().then(() => console.log('consumer ready'));
