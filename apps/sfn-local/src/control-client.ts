import type { SfnLocalCounters } from './counters';
import type { ActiveFault, FaultSpec } from './faults';
import type { ProcessInfo } from './local-hooks';
import type { TaskQuery, TaskRecord } from './task-records';

/** A typed client for the `/_local/` hooks of a separately running emulator. */
export class SfnLocalControl {
  private readonly base: string;

  constructor(baseUrl: string) {
    this.base = baseUrl.replace(/\/+$/, '');
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.base}/_local/${path}`, {
      method,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as T & { error?: string };
    if (!res.ok) throw new Error(`sfn-local ${method} /_local/${path}: ${json.error ?? res.status}`);
    return json;
  }

  health(): Promise<{ ok: boolean; pollSeconds: number }> {
    return this.call('GET', 'health');
  }

  counters(): Promise<SfnLocalCounters> {
    return this.call('GET', 'counters');
  }

  async resetCounters(): Promise<void> {
    await this.call('POST', 'counters/reset');
  }

  async injectFault(spec: FaultSpec): Promise<ActiveFault> {
    return (await this.call<{ faults: ActiveFault[] }>('POST', 'faults', spec)).faults[0];
  }

  async listFaults(): Promise<ActiveFault[]> {
    return (await this.call<{ faults: ActiveFault[] }>('GET', 'faults')).faults;
  }

  async clearFaults(action?: string): Promise<number> {
    const q = action ? `?action=${encodeURIComponent(action)}` : '';
    return (await this.call<{ cleared: number }>('DELETE', `faults${q}`)).cleared;
  }

  async setPollSeconds(seconds: number): Promise<void> {
    await this.call('POST', 'poll-seconds', { seconds });
  }

  async getPollSeconds(): Promise<number> {
    return (await this.call<{ seconds: number }>('GET', 'poll-seconds')).seconds;
  }

  /** The token travels in a POST body, never in a URL. */
  async tasks(query: TaskQuery): Promise<TaskRecord[]> {
    return (await this.call<{ tasks: TaskRecord[] }>('POST', 'tasks', query)).tasks;
  }

  process(): Promise<ProcessInfo> {
    return this.call('GET', 'process');
  }

  async reset(): Promise<void> {
    await this.call('POST', 'reset');
  }
}
