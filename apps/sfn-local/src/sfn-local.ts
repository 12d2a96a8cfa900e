import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { SfnLocalCounters } from './counters';
import { Emulator } from './emulator';
import type { ActiveFault, FaultSpec } from './faults';
import { processInfo, ProcessInfo, setPollSeconds } from './local-hooks';
import { createSfnServer } from './server';
import { findTasks, TaskQuery, TaskRecord } from './task-records';

export interface SfnLocalOptions {
  /** 0 (default) = a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** How long GetActivityTask holds a poll without a task (default 60). */
  pollSeconds?: number;
  region?: string;
  accountId?: string;
  /** No log output (default false: unexpected internal errors are logged to stderr). */
  quiet?: boolean;
  /** Finished executions kept for Describe/History/List (default 20,000; oldest forgotten first). */
  retainExecutions?: number;
}

/** A running emulator (in this process). */
export class SfnLocal {
  readonly url: string;
  readonly port: number;
  readonly host: string;
  readonly region: string;
  readonly accountId: string;

  constructor(
    private readonly emu: Emulator,
    private readonly server: Server,
  ) {
    const addr = server.address() as AddressInfo;
    this.port = addr.port;
    this.host = addr.address;
    this.url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
    this.region = emu.account.region;
    this.accountId = emu.account.accountId;
  }

  activityArn(name: string): string {
    return `arn:aws:states:${this.region}:${this.accountId}:activity:${name}`;
  }

  get pollSeconds(): number {
    return this.emu.pollSeconds;
  }

  /** Applies to polls that park from now on. */
  setPollSeconds(seconds: number): void {
    setPollSeconds(this.emu, seconds);
  }

  injectFault(spec: FaultSpec): ActiveFault {
    return this.emu.faults.add(spec);
  }

  listFaults(): ActiveFault[] {
    return this.emu.faults.describe();
  }

  /** Clears all faults, or only those of one action; returns how many were cleared. */
  clearFaults(action?: string): number {
    return this.emu.faults.clear(action);
  }

  counters(): SfnLocalCounters {
    return this.emu.counterSnapshot();
  }

  resetCounters(): void {
    this.emu.resetCounters();
  }

  tasks(query: TaskQuery): TaskRecord[] {
    return findTasks(this.emu, query);
  }

  process(): ProcessInfo {
    return processInfo();
  }

  /** Forgets all resources, executions, tokens, faults and counters; parked polls are answered empty. */
  reset(): void {
    this.emu.reset();
  }

  /** Answers parked polls empty, clears every timer and closes the server and its connections. */
  close(): Promise<void> {
    this.emu.shutdown();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      // Let the empty answers flush, then drop whatever keep-alive sockets remain.
      setImmediate(() => this.server.closeAllConnections());
    });
  }
}

export async function startSfnLocal(opts: SfnLocalOptions = {}): Promise<SfnLocal> {
  const emu = new Emulator({
    region: opts.region ?? 'us-east-1',
    accountId: opts.accountId ?? '123456789012',
    pollSeconds: opts.pollSeconds ?? 60,
    retainExecutions: opts.retainExecutions ?? 20_000,
  });
  const log = opts.quiet ? () => undefined : (m: string) => process.stderr.write(`${m}\n`);
  const server = createSfnServer(emu, log);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return new SfnLocal(emu, server);
}
