import { sleep } from '@bridge/common';
import type { ChaosAction, ChaosOptions } from './chaos-options';
import type { ProcessSupervisor } from './process-supervisor';
import { between } from './random';
import type { FailoverAction, FailoverRecord, RedisTopology } from './redis-topology';
import type { RunClock } from './run-clock';

export interface ChaosEvent {
  at: number;
  /** The action done: the rotation's, except that Redis actions are failovers on a Cluster / Sentinel. */
  action: ChaosAction | FailoverAction;
  target: string;
  ms: number;
}

/** A bridge replica stopped by the monkey (which worker name it had, how it went). */
export interface KillRecord {
  replica: number;
  workerName: string;
  signal: 'SIGKILL' | 'SIGTERM';
  at: number;
  exitMs: number;
  escalated: boolean;
}

/**
 * The chaos action scheduler: every ~`chaosEverySeconds` (0.6x to 1.4x, seeded) the next action
 * in turn kills a random bridge replica and starts it again, or disrupts Redis (restarts it, or
 * fails its primary over, as the RedisTopology does).
 */
export class ChaosMonkey {
  readonly events: ChaosEvent[] = [];
  readonly kills: KillRecord[] = [];
  readonly failovers: FailoverRecord[] = [];
  private on: boolean;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly opts: Pick<ChaosOptions, 'actions' | 'chaosEverySeconds'>,
    private readonly random: () => number,
    private readonly supervisor: ProcessSupervisor,
    private readonly redis: RedisTopology,
    private readonly clock: RunClock,
    private readonly log: (line: string) => void,
  ) {
    this.on = opts.actions.length > 0;
  }

  /** True until stopped (false from the start when there are no actions). */
  get active(): boolean {
    return this.on;
  }

  start(): void {
    this.loop = this.run();
  }

  /** Lets the action in progress finish (its process restarted), then stops. */
  async stop(): Promise<void> {
    this.on = false;
    await this.loop;
  }

  private async run(): Promise<void> {
    const { actions, chaosEverySeconds } = this.opts;
    let turn = 0;
    while (this.on) {
      const wait = chaosEverySeconds * 1000 * (0.6 + 0.8 * this.random());
      const until = Date.now() + wait;
      while (this.on && Date.now() < until) await sleep(Math.min(250, until - Date.now()));
      if (!this.on) break;
      const action = actions[turn++ % actions.length];
      if (action === 'bridge-sigkill' || action === 'bridge-sigterm') await this.stopBridge(action);
      else await this.stopRedis(action);
    }
  }

  private async stopBridge(action: 'bridge-sigkill' | 'bridge-sigterm'): Promise<void> {
    const at = Date.now();
    const bridges = this.supervisor.bridges;
    const i = Math.floor(this.random() * bridges.length);
    const b = bridges[i];
    const signal = action === 'bridge-sigkill' ? 'SIGKILL' : 'SIGTERM';
    const workerName = `chaos-r${i}-g${b.generation}`;
    const stopped = await b.stop(signal, 30_000);
    this.kills.push({ replica: i, workerName, signal, at, exitMs: stopped.ms, escalated: stopped.escalated });
    if (signal === 'SIGKILL') await sleep(between(this.random, 200, 1_500));
    await this.supervisor.startWithRetry(b);
    this.events.push({ at, action, target: workerName, ms: Date.now() - at });
    this.log(
      `[${this.clock.elapsed()}] ${action} ${workerName}: exit after ${stopped.ms} ms${stopped.escalated ? ' (escalated to SIGKILL)' : ''}, restarted`,
    );
  }

  private async stopRedis(action: 'redis-sigterm' | 'redis-sigkill'): Promise<void> {
    const at = Date.now();
    const done = await this.redis.disrupt(action, this.random);
    this.events.push({ at, action: done.action, target: done.target, ms: done.ms });
    if (done.failover) this.failovers.push(done.failover);
    this.log(`[${this.clock.elapsed()}] ${done.logLine}`);
  }
}
