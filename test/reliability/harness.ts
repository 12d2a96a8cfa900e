import { DescribeExecutionCommandOutput, SFNClient } from '@aws-sdk/client-sfn';
import { Job, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrivateRedis, withTimeout } from '@bridge/common';
import { startExecution, waitForExecution } from '../support/sfn';

/** A private redis-server (loopback, spare port, AOF) that a test may stop and restart. */
export async function startPrivateRedis(): Promise<{ redis: PrivateRedis; cleanup: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'sbb-reliability-'));
  const redis = await PrivateRedis.start({ dir });
  return {
    redis,
    cleanup: async () => {
      await redis.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Input of the test workload: `fail` makes the consumer throw `ReliabilityDeclined`. */
export interface WorkInput {
  n: number;
  fail?: boolean;
  workMs?: number;
}

export class ReliabilityDeclined extends Error {
  override name = 'ReliabilityDeclined';
}

/**
 * A real BullMQ worker for the tests: counts runs per task (`n`) and lets a test await the
 * number of finished runs (an event, not a sleep).
 */
export class CountingWorker {
  readonly runs = new Map<number, number>();
  finished = 0;
  private readonly waiters: { count: number; resolve: () => void }[] = [];
  readonly worker: Worker;
  private readonly connection: IORedis;

  constructor(redisUrl: string, queue: string, prefix: string, concurrency = 20) {
    this.connection = new IORedis(redisUrl, { maxRetriesPerRequest: null, retryStrategy: (n) => Math.min(100 * n, 1_000) });
    this.connection.on('error', () => undefined);
    this.worker = new Worker(queue, (job: Job<WorkInput>) => this.process(job), { connection: this.connection, prefix, concurrency });
    this.worker.on('error', () => undefined);
  }

  private async process(job: Job<WorkInput>) {
    const { n, fail, workMs } = job.data;
    this.runs.set(n, (this.runs.get(n) ?? 0) + 1);
    try {
      if (workMs) await new Promise((r) => setTimeout(r, workMs));
      if (fail) throw new ReliabilityDeclined(`task ${n} declined`);
      return { n, doubled: n * 2 };
    } finally {
      this.finished++;
      for (const w of [...this.waiters]) {
        if (this.finished >= w.count) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    }
  }

  /** Resolves once `count` runs have finished (bounded). */
  waitForFinished(count: number, timeoutMs = 20_000): Promise<void> {
    if (this.finished >= count) return Promise.resolve();
    const p = new Promise<void>((resolve) => this.waiters.push({ count, resolve }));
    return withTimeout(p, timeoutMs, `${count} finished consumer runs (have ${this.finished})`);
  }

  /** Tasks the worker ran more than once. */
  duplicates(): number[] {
    return [...this.runs].filter(([, c]) => c > 1).map(([n]) => n);
  }

  async close(): Promise<void> {
    await this.worker.close(true).catch(() => undefined);
    this.connection.disconnect();
  }
}

export async function startMany(sfn: SFNClient, stateMachineArn: string, inputs: WorkInput[]): Promise<string[]> {
  return Promise.all(inputs.map((input) => startExecution(sfn, stateMachineArn, input)));
}

/** Every execution must end as the consumer said: output `{n, doubled}`, or ReliabilityDeclined. */
export function expectAsWorkerSaid(results: DescribeExecutionCommandOutput[], inputs: WorkInput[]): void {
  const wrong = results
    .map((r, i) => {
      const input = inputs[i];
      if (input.fail) {
        return r.status === 'FAILED' && r.error === 'ReliabilityDeclined' && r.cause === `task ${input.n} declined`
          ? undefined
          : `${input.n}: expected FAILED ReliabilityDeclined, got ${r.status} ${r.error ?? ''} ${r.cause ?? ''}`;
      }
      const out = r.output ? JSON.parse(r.output) : undefined;
      return r.status === 'SUCCEEDED' && out?.n === input.n && out?.doubled === input.n * 2
        ? undefined
        : `${input.n}: expected SUCCEEDED, got ${r.status} ${r.error ?? ''} ${r.cause ?? r.output ?? ''}`;
    })
    .filter(Boolean);
  expect(wrong).toEqual([]);
}

export function waitAll(sfn: SFNClient, arns: string[], timeoutMs: number): Promise<DescribeExecutionCommandOutput[]> {
  return Promise.all(arns.map((arn) => waitForExecution(sfn, arn, timeoutMs)));
}

export function inputs(from: number, count: number, failEvery = 4): WorkInput[] {
  return Array.from({ length: count }, (_, i) => ({ n: from + i, fail: (from + i) % failEvery === 0 }));
}
