import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Op, RunMsg, RunReply } from './load-worker';

export type RunSpec = Omit<RunMsg, 'id' | 'loops' | 'budget' | 'rate' | 'start'> & { loops: number; budget?: number; rate?: number };

/** Splits `total` into `parts` near-equal integers (the first ones get the remainder). */
const split = (total: number, parts: number): number[] =>
  Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));

/**
 * The load generator as `threads` worker threads (load-worker.ts); the bench's loops are split
 * over them. Each loop is one keep-alive connection with one request in flight.
 */
export class LoadGen {
  private readonly workers: Worker[];
  private nextId = 1;
  private closing = false;
  /** Set once a thread failed or exited early: every later run fails with it. */
  private dead: Error | undefined;
  private readonly waiting = new Map<number, { left: number; sum: number; resolve(n: number): void; reject(e: Error): void }>();

  constructor(readonly threads: number) {
    // Worker threads do not inherit tsx's loader: register its CommonJS hook, then load the TS file.
    const boot = `require('tsx/cjs'); require(${JSON.stringify(join(__dirname, 'load-worker.ts'))});`;
    this.workers = Array.from({ length: threads }, () => {
      const w = new Worker(boot, { eval: true });
      w.on('message', (r: RunReply) => this.onReply(r));
      w.on('error', (e) => this.failAll(e));
      w.on('exit', (code) => {
        if (!this.closing) this.failAll(new Error(`load worker exited with ${code}`));
      });
      return w;
    });
  }

  private failAll(e: Error): void {
    for (const p of this.waiting.values()) p.reject(e);
    this.waiting.clear();
    this.dead ??= e;
  }

  private onReply(r: RunReply): void {
    const p = this.waiting.get(r.id);
    if (!p) return;
    if ('error' in r) {
      this.waiting.delete(r.id);
      return p.reject(new Error(r.error));
    }
    p.sum += r.count;
    if (--p.left === 0) {
      this.waiting.delete(r.id);
      p.resolve(p.sum);
    }
  }

  /** Runs `spec.loops` loops of `spec.op`, spread over the threads; resolves with the total iterations. */
  run(spec: RunSpec): Promise<number> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    const loops = split(spec.loops, this.threads);
    const budgets = spec.budget === undefined ? loops.map(() => Infinity) : split(spec.budget, this.threads);
    const start = Date.now();
    const active = loops.map((l, i) => ({ l, i })).filter((x) => x.l > 0);
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { left: active.length, sum: 0, resolve, reject });
      for (const { l, i } of active) {
        // Each thread's share of a paced rate is proportional to its share of the loops.
        const msg: RunMsg = { ...spec, id, loops: l, budget: budgets[i], rate: ((spec.rate ?? 0) * l) / spec.loops, start };
        this.workers[i].postMessage(msg);
      }
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(
      this.workers
        .filter((w) => w.threadId >= 0)
        .map(
          (w) =>
            new Promise<void>((resolve) => {
              w.once('exit', () => resolve());
              w.postMessage('close');
            }),
        ),
    );
  }
}

export type { Op };
