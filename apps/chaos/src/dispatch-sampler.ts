/**
 * Samples every bridge replica's `sfn_bridge_dispatch_seconds` histogram (token received -> task
 * in Redis) during a chaos run. A replica's counters restart with its process, so a scrape whose
 * count went down counts the new process's whole histogram as that interval's samples; samples a
 * SIGKILLed replica took since its last scrape (at most `everyMs`) are lost. Each scrape's new
 * samples are kept with their interval, so the figures are given for the whole run and for the
 * intervals clear of Redis outages (a task taken while Redis is down waits for it, by design).
 * Percentiles are bucket upper bounds (what a histogram can tell).
 */
export interface DispatchFigures {
  samples: number;
  /** Upper bounds (ms) of the buckets holding the 50th and 99th percentile and the largest sample. */
  p50Ms?: number;
  p99Ms?: number;
  maxMs?: number;
}

type Buckets = Map<number, number>;

const LINE = /^sfn_bridge_dispatch_seconds_bucket\{[^}]*le="([^"]+)"[^}]*\}\s+([0-9.e+-]+)$/;

export function parseDispatchBuckets(text: string): Buckets {
  const out: Buckets = new Map();
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const le = m[1] === '+Inf' ? Infinity : Number(m[1]);
    out.set(le, (out.get(le) ?? 0) + Number(m[2]));
  }
  return out;
}

const total = (b: Buckets) => b.get(Infinity) ?? 0;

export function dispatchFigures(b: Buckets): DispatchFigures {
  const samples = total(b);
  if (samples === 0) return { samples };
  const bounds = [...b.keys()].sort((x, y) => x - y);
  const at = (q: number) => {
    const le = bounds.find((k) => (b.get(k) ?? 0) >= q * samples);
    return le === undefined ? undefined : le * 1000;
  };
  return { samples, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: at(1) };
}

/** New samples of one replica between two scrapes. */
interface Interval {
  from: number;
  to: number;
  delta: Buckets;
}

export class DispatchSampler {
  private readonly current = new Map<string, { at: number; buckets: Buckets }>();
  private readonly intervals: Interval[] = [];
  private readonly startedAt = Date.now();
  private timer?: NodeJS.Timeout;
  private scraping?: Promise<void>;

  constructor(
    private readonly urls: () => string[],
    private readonly everyMs = 2_000,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (!this.scraping) this.scraping = this.scrape().finally(() => (this.scraping = undefined));
    }, this.everyMs);
  }

  /**
   * Stops sampling after one last scrape of every replica: the figures of the whole run, and of
   * the intervals that `disturbed(from, to)` (a Redis outage overlapping them) does not flag.
   */
  async stop(disturbed: (from: number, to: number) => boolean = () => false): Promise<{ all: DispatchFigures; clear: DispatchFigures }> {
    clearInterval(this.timer);
    await this.scraping;
    await this.scrape();
    const all: Buckets = new Map();
    const clear: Buckets = new Map();
    for (const { from, to, delta } of this.intervals) {
      add(all, delta);
      if (!disturbed(from, to)) add(clear, delta);
    }
    return { all: dispatchFigures(all), clear: dispatchFigures(clear) };
  }

  private async scrape(): Promise<void> {
    await Promise.all(
      this.urls().map(async (url) => {
        const text = await fetch(url, { signal: AbortSignal.timeout(1_000) }).then(
          (r) => r.text(),
          () => undefined,
        );
        if (text === undefined) return;
        const at = Date.now();
        const next = parseDispatchBuckets(text);
        const prev = this.current.get(url);
        const restarted = !prev || total(next) < total(prev.buckets);
        const delta: Buckets = new Map();
        for (const [le, n] of next) delta.set(le, n - (restarted ? 0 : (prev.buckets.get(le) ?? 0)));
        if (total(delta) > 0) this.intervals.push({ from: prev?.at ?? this.startedAt, to: at, delta });
        this.current.set(url, { at, buckets: next });
      }),
    );
  }
}

function add(into: Buckets, from: Buckets): void {
  for (const [le, n] of from) into.set(le, (into.get(le) ?? 0) + n);
}
