/**
 * Samples every bridge replica's `sfn_bridge_dispatch_seconds` histogram (token received -> task
 * in Redis) during a chaos run. A replica's counters restart with its process, so a scrape whose
 * count went down banks the previous one; samples a SIGKILLed replica took since its last scrape
 * (at most `everyMs`) are lost. Percentiles are bucket upper bounds (what a histogram can tell).
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

export class DispatchSampler {
  private readonly current = new Map<string, Buckets>();
  private readonly banked: Buckets = new Map();
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

  /** Stops sampling after one last scrape of every replica. */
  async stop(): Promise<DispatchFigures> {
    clearInterval(this.timer);
    await this.scraping;
    await this.scrape();
    const sum: Buckets = new Map(this.banked);
    for (const b of this.current.values()) for (const [le, n] of b) sum.set(le, (sum.get(le) ?? 0) + n);
    return dispatchFigures(sum);
  }

  private async scrape(): Promise<void> {
    await Promise.all(
      this.urls().map(async (url) => {
        const text = await fetch(url, { signal: AbortSignal.timeout(1_000) }).then(
          (r) => r.text(),
          () => undefined,
        );
        if (text === undefined) return;
        const next = parseDispatchBuckets(text);
        const prev = this.current.get(url);
        if (prev && total(next) < total(prev)) for (const [le, n] of prev) this.banked.set(le, (this.banked.get(le) ?? 0) + n);
        this.current.set(url, next);
      }),
    );
  }
}
