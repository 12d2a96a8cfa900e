import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Emulator } from './emulator';
import { SfnError } from './errors';
import type { FaultSpec } from './faults';
import { replyJson } from './http-reply';
import { findTasks } from './task-records';

/** Process figures so a benchmark can measure the emulator's own CPU. */
export interface ProcessInfo {
  pid: number;
  uptimeSeconds: number;
  /** process.cpuUsage() in microseconds. */
  cpu: { user: number; system: number };
  memory: { rss: number; heapUsed: number };
}

export const processInfo = (): ProcessInfo => {
  const m = process.memoryUsage();
  return { pid: process.pid, uptimeSeconds: process.uptime(), cpu: process.cpuUsage(), memory: { rss: m.rss, heapUsed: m.heapUsed } };
};

export function setPollSeconds(emu: Emulator, n: unknown): void {
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0 || n > 3600) {
    throw new SfnError('ValidationException', 'pollSeconds must be a number between 0 and 3600');
  }
  emu.pollSeconds = n;
}

/**
 * Test hooks (JSON over HTTP, never on the AWS path):
 *   GET  /_local/health                 {ok, pollSeconds}
 *   GET  /_local/counters               SfnLocalCounters;  POST /_local/counters/reset
 *   GET  /_local/faults                 active faults;     POST /_local/faults  FaultSpec | FaultSpec[]
 *   DELETE /_local/faults[?action=X]    clear faults (all, or one action's)
 *   GET|POST /_local/poll-seconds       {seconds}
 *   GET  /_local/tasks?tokenHash=H | ?executionArn=A;  POST /_local/tasks {token}   -> {tasks: TaskRecord[]}
 *   GET  /_local/process                ProcessInfo
 *   POST /_local/reset                  forget everything (resources, executions, tokens, faults, counters)
 */
export function handleLocal(emu: Emulator, req: IncomingMessage, res: ServerResponse, url: string, data: string): void {
  const u = new URL(url, 'http://local');
  const route = `${req.method} ${u.pathname.replace(/\/+$/, '')}`;
  try {
    const body = data ? JSON.parse(data) : {};
    const out = dispatch(emu, route, u.searchParams, body);
    if (out === undefined) return replyJson(res, 404, JSON.stringify({ error: `no hook ${route}` }), 'application/json');
    replyJson(res, 200, JSON.stringify(out), 'application/json');
  } catch (e) {
    replyJson(res, 400, JSON.stringify({ error: (e as Error).message }), 'application/json');
  }
}

function dispatch(emu: Emulator, route: string, q: URLSearchParams, body: Record<string, unknown>): unknown {
  switch (route) {
    case 'GET /_local/health':
      return { ok: true, pollSeconds: emu.pollSeconds };
    case 'GET /_local/counters':
      return emu.counterSnapshot();
    case 'POST /_local/counters/reset':
      emu.resetCounters();
      return { ok: true };
    case 'GET /_local/faults':
      return { faults: emu.faults.describe() };
    case 'POST /_local/faults': {
      const specs = (Array.isArray(body) ? body : [body]) as FaultSpec[];
      return { faults: specs.map((s) => emu.faults.add(s)) };
    }
    case 'DELETE /_local/faults':
      return { cleared: emu.faults.clear(q.get('action') ?? undefined) };
    case 'GET /_local/poll-seconds':
      return { seconds: emu.pollSeconds };
    case 'POST /_local/poll-seconds':
    case 'PUT /_local/poll-seconds':
      setPollSeconds(emu, body.seconds);
      return { seconds: emu.pollSeconds };
    case 'GET /_local/tasks':
      return { tasks: findTasks(emu, { tokenHash: q.get('tokenHash') ?? undefined, executionArn: q.get('executionArn') ?? undefined }) };
    case 'POST /_local/tasks':
      return { tasks: findTasks(emu, body) };
    case 'GET /_local/process':
      return processInfo();
    case 'POST /_local/reset':
      emu.reset();
      return { ok: true };
    default:
      return undefined;
  }
}
