'use strict';
/**
 * Example consumer for sfn-bullmq-bridge: a plain BullMQ worker (no AWS SDK, no task token).
 *   node examples/node-worker/worker.js
 * Env: REDIS_URL (redis://127.0.0.1:6379), BULLMQ_PREFIX (bull), QUEUE (payments), CONCURRENCY (16).
 */
const { Worker } = require('bullmq');
const { Redis } = require('ioredis');
const { chargeCard } = require('./payment-processor');

const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const queue = process.env.QUEUE || 'payments';
const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });

const worker = new Worker(queue, chargeCard, {
  connection,
  prefix: process.env.BULLMQ_PREFIX || 'bull',
  concurrency: Number(process.env.CONCURRENCY || 16),
});

worker.on('ready', () => console.log(`node-worker: consuming queue "${queue}"`));
worker.on('failed', (job, err) => {
  if (job && job.attemptsMade >= (job.opts.attempts || 1))
    console.log(`node-worker: job ${String(job.id).slice(0, 12)} failed: ${err.name}: ${err.message}`);
});
worker.on('error', (err) => console.error(`node-worker: ${err.message}`));

/** @param {NodeJS.Signals} signal */
async function shutdown(signal) {
  console.log(`node-worker: ${signal}, finishing active jobs`);
  try {
    await worker.close();
  } finally {
    await connection.quit().catch(() => connection.disconnect());
    process.exit(0);
  }
}
process.once('SIGINT', () => shutdown('SIGINT'));
process.once('SIGTERM', () => shutdown('SIGTERM'));
