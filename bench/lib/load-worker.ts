/**
 * A load-generator thread: runs its share of the bench loops, each loop on its own keep-alive
 * connection (see undici-loops.ts), and answers the parent with the number of completed iterations.
 * Connections persist across phases (keyed by origin and role), as a long-lived worker's would.
 */
import { sleep } from '@bridge/common';
import { parentPort } from 'node:worker_threads';
import { LoopConnection } from './undici-loops';

export type Op = 'start' | 'pair' | 'echoPair';

export interface RunMsg {
  id: number;
  origin: string;
  role: string;
  op: Op;
  loops: number;
  /** Absolute Date.now() at which loops stop starting new iterations. */
  deadline: number;
  /**
   * Paced mode: this thread's target iterations per second, spread evenly over its loops (each
   * loop waits for its next slot; a loop that is behind does not wait). 0 = as fast as possible.
   */
  rate: number;
  /** Date.now() at which the phase started (slot 0 of the paced schedule). */
  start: number;
  /** Iterations this thread may do in total (op 'start' in the bulk phase); Infinity if unbounded. */
  budget: number;
  activityArn: string;
  stateMachineArn: string;
  input: string;
}

export type RunReply = { id: number; count: number } | { id: number; error: string };

const pools = new Map<string, LoopConnection[]>();

function connections(origin: string, role: string, n: number): LoopConnection[] {
  const key = `${origin}|${role}`;
  let list = pools.get(key);
  if (!list) pools.set(key, (list = []));
  while (list.length < n) list.push(new LoopConnection(origin));
  return list.slice(0, n);
}

const FAKE_TOKEN = 'A'.repeat(684);
let outputSeq = 0;

function check(what: string, r: { status: number; body: any }): void {
  if (r.status !== 200) throw new Error(`${what}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
}

async function run(m: RunMsg): Promise<number> {
  let n = 0;
  let budget = m.budget;
  const body = async (c: LoopConnection): Promise<boolean> => {
    switch (m.op) {
      case 'start': {
        if (budget-- <= 0) return false;
        check('StartExecution', await c.call('StartExecution', { stateMachineArn: m.stateMachineArn, input: m.input }));
        return true;
      }
      case 'pair': {
        const t = await c.call('GetActivityTask', { activityArn: m.activityArn, workerName: 'bench' });
        check('GetActivityTask', t);
        if (!t.body.taskToken) return false; // queue drained (the poll was held, then answered empty)
        check('SendTaskSuccess', await c.call('SendTaskSuccess', { taskToken: t.body.taskToken, output: `{"ok":${++outputSeq}}` }));
        return true;
      }
      case 'echoPair': {
        check('echo 1', await c.call('GetActivityTask', { activityArn: m.activityArn, workerName: 'bench' }));
        check('echo 2', await c.call('SendTaskSuccess', { taskToken: FAKE_TOKEN, output: `{"ok":${++outputSeq}}` }));
        return true;
      }
    }
  };
  const interval = m.rate > 0 ? (1000 * m.loops) / m.rate : 0; // ms between one loop's slots
  await Promise.all(
    connections(m.origin, m.role, m.loops).map(async (c, j) => {
      let slot = m.start + (interval * j) / m.loops;
      while (Date.now() < m.deadline && slot < m.deadline) {
        const wait = slot - Date.now();
        if (wait > 0) await sleep(wait);
        if (!(await body(c))) return;
        n++;
        slot += interval;
      }
    }),
  );
  return n;
}

parentPort!.on('message', (m: RunMsg | 'close') => {
  if (m === 'close') {
    void Promise.all([...pools.values()].flat().map((c) => c.close())).finally(() => process.exit(0));
    return;
  }
  run(m).then(
    (count) => parentPort!.postMessage({ id: m.id, count } satisfies RunReply),
    (e: Error) => parentPort!.postMessage({ id: m.id, error: e.stack ?? String(e) } satisfies RunReply),
  );
});
