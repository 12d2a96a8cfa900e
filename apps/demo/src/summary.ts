import { ExecutionsTracker } from './executions-tracker';

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

const ms = (n: number) => (Number.isFinite(n) ? `${Math.round(n)} ms` : 'n/a');

export interface SummaryInfo {
  mode: 'once' | 'stream';
  boardUrl?: string;
  /** For `--once`: the batch size asked for. */
  expected?: number;
}

/** The final report; its "ended as expected: X/Y" line is what scripts and tests look for. */
export function renderSummary(t: ExecutionsTracker, info: SummaryInfo): string {
  const c = t.counts;
  const ok = c.succeeded + c.declined;
  const total = info.expected ?? c.started + t.startFailures;
  const sorted = [...t.latencies].sort((a, b) => a - b);
  const span = t.firstStart && t.lastEnd ? (t.lastEnd - t.firstStart) / 1000 : 0;
  const lines = [
    '',
    `Summary (${info.mode === 'once' ? 'batch' : 'stream'}):`,
    `  started ${c.started}, succeeded ${c.succeeded}, failed(PaymentDeclined) ${c.declined}, unexpected ${c.unexpected}, still running ${c.running}`,
    `  ended as expected: ${ok}/${total}`,
    `  end-to-end latency (DescribeExecution startDate -> stopDate): p50 ${ms(percentile(sorted, 50))}, p95 ${ms(percentile(sorted, 95))}, max ${ms(sorted[sorted.length - 1] ?? NaN)} (${sorted.length} executions)`,
    `  throughput: ${span > 0 ? (sorted.length / span).toFixed(1) : '0.0'} executions/s over ${span.toFixed(1)} s`,
  ];
  if (t.unexpected.length) {
    lines.push(`  unexpected executions${c.unexpected > t.unexpected.length ? ` (first ${t.unexpected.length} of ${c.unexpected})` : ''}:`);
    for (const u of t.unexpected) lines.push(`    ${u.name}: ${u.reason}`);
  }
  const still = t.stillRunning();
  if (still.length)
    lines.push(`  still running when stopped: ${still.slice(0, 10).join(', ')}${still.length > 10 ? `, ... (${still.length})` : ''}`);
  if (info.boardUrl) lines.push(`  Bull Board: ${info.boardUrl}`);
  return lines.join('\n');
}
