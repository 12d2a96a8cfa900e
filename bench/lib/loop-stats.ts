/**
 * Where a bridge's latency tail goes: its event-loop delay and GC pauses over a window, read from
 * its own /metrics (prom-client's default metrics) at the window's start and end. prom-client
 * resets the event-loop delay histogram on each collect, so the end scrape's p99 / max cover the
 * window; GC pauses are the difference of the two scrapes' `nodejs_gc_duration_seconds` counters.
 */
import { Spawned } from './child-process';

export interface Scrape {
  text: string;
  at: number;
}

export interface LoopStats {
  seconds: number;
  /** Event-loop delay over the window (the bridge samples it every EVENT_LOOP_SAMPLE_MS: a coarse p99). */
  delayP99Ms: number;
  delayMaxMs: number;
  /** GC pauses by kind (minor = scavenge, major = mark-compact, incremental, weakcb). */
  gc: Record<string, { count: number; ms: number }>;
  /** Pauses longer than 10 ms (any kind). */
  pausesOver10ms: number;
  /** Time in GC pauses, ms per second of the window. */
  gcMsPerSecond: number;
}

export async function scrapeMetrics(bridge: Spawned): Promise<Scrape> {
  const res = await fetch(`http://127.0.0.1:${bridge.match[1]}/metrics`);
  if (!res.ok) throw new Error(`bridge /metrics: HTTP ${res.status}`);
  return { text: await res.text(), at: Date.now() };
}

interface Sample {
  labels: Record<string, string>;
  value: number;
}

function samples(text: string, name: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^(\w+)(?:\{([^}]*)\})? (\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) labels[k] = v;
    out.push({ labels, value: Number(m[3]) });
  }
  return out;
}

const one = (text: string, name: string): number => samples(text, name)[0]?.value ?? NaN;

/**
 * `sampleMs`: the bridge's monitorEventLoopDelay resolution. Node's histogram records each whole
 * timer interval (an idle loop at resolution 100 reads min 100.1 ms), so the delay is that minus the resolution.
 */
export function loopStatsBetween(start: Scrape, end: Scrape, sampleMs: number): LoopStats {
  const seconds = (end.at - start.at) / 1000;
  const byKind = (text: string, name: string, le?: string) => {
    const m = new Map<string, number>();
    for (const s of samples(text, name)) if (le === undefined || s.labels.le === le) m.set(s.labels.kind ?? '?', s.value);
    return m;
  };
  const gc: LoopStats['gc'] = {};
  const count0 = byKind(start.text, 'nodejs_gc_duration_seconds_count');
  const sum0 = byKind(start.text, 'nodejs_gc_duration_seconds_sum');
  const sum1 = byKind(end.text, 'nodejs_gc_duration_seconds_sum');
  let totalMs = 0;
  for (const [kind, c1] of byKind(end.text, 'nodejs_gc_duration_seconds_count')) {
    const ms = ((sum1.get(kind) ?? 0) - (sum0.get(kind) ?? 0)) * 1000;
    gc[kind] = { count: c1 - (count0.get(kind) ?? 0), ms };
    totalMs += ms;
  }
  // Cumulative buckets: pauses over 10 ms = all pauses - those <= 10 ms.
  const le10Start = byKind(start.text, 'nodejs_gc_duration_seconds_bucket', '0.01');
  const le10End = byKind(end.text, 'nodejs_gc_duration_seconds_bucket', '0.01');
  let over10 = 0;
  for (const [kind, g] of Object.entries(gc)) over10 += g.count - ((le10End.get(kind) ?? 0) - (le10Start.get(kind) ?? 0));
  return {
    seconds,
    delayP99Ms: Math.max(0, one(end.text, 'nodejs_eventloop_lag_p99_seconds') * 1000 - sampleMs),
    delayMaxMs: Math.max(0, one(end.text, 'nodejs_eventloop_lag_max_seconds') * 1000 - sampleMs),
    gc,
    pausesOver10ms: over10,
    gcMsPerSecond: totalMs / seconds,
  };
}
