import * as fs from 'fs';
import * as path from 'path';
import { BridgeMetrics, LATENCY_BUCKETS } from './bridge-metrics.service';

const RUNBOOK = path.join(__dirname, '../../../docs/runbook.md');

/** Metric names the runbook's alarms use (histogram series reduced to the histogram's name). */
function runbookMetricNames(): string[] {
  const text = fs.readFileSync(RUNBOOK, 'utf8');
  const names = text.match(/\b(sfn_bridge_[a-z_]+|nodejs_[a-z0-9_]+|process_[a-z_]+)\b/g) ?? [];
  return [...new Set(names.map((n) => n.replace(/_(bucket|sum|count)$/, '')))].filter((n) => n !== 'sfn_bridge_');
}

describe('BridgeMetrics', () => {
  const metrics = new BridgeMetrics();

  it('registers every metric the runbook alarms on, under the same name', async () => {
    const registered = new Set((await metrics.registry.getMetricsAsJSON()).map((m) => m.name));
    const names = runbookMetricNames();
    expect(names.length).toBeGreaterThan(15);
    expect(names.filter((n) => !registered.has(n))).toEqual([]);
  });

  it('keeps Node default metrics under their standard names (no sfn_bridge_ prefix)', async () => {
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^nodejs_eventloop_lag_p99_seconds /m);
    expect(text).not.toMatch(/^sfn_bridge_nodejs_/m);
  });

  it('uses the label names the runbook queries by', () => {
    const labels = (m: { labelNames?: readonly string[] }) => m.labelNames;
    expect(labels(metrics.polls as never)).toEqual(['binding', 'result']);
    expect(labels(metrics.relays as never)).toEqual(['binding', 'outcome']);
    expect(labels(metrics.relayErrors as never)).toEqual(['binding', 'error']);
    expect(labels(metrics.awsErrors as never)).toEqual(['operation', 'error']);
  });

  it('resolves latencies of a few milliseconds into separate buckets (1, 2.5, 5, 10 ms)', async () => {
    const m = new BridgeMetrics();
    for (const ms of [0.8, 2, 3, 7]) m.dispatchSeconds.observe({ binding: 'b' }, ms / 1000);
    const text = await m.registry.metrics();
    const bucket = (le: string) =>
      Number(new RegExp(`^sfn_bridge_dispatch_seconds_bucket\\{le="${le}",binding="b"\\} (\\d+)`, 'm').exec(text)?.[1]);
    const seen = ['0.001', '0.0025', '0.005', '0.01'].map((le) => `${le}:${bucket(le)}`);
    expect(seen).toEqual(['0.001:1', '0.0025:2', '0.005:3', '0.01:4']);
    expect(LATENCY_BUCKETS.slice(0, 4)).toEqual([0.001, 0.0025, 0.005, 0.01]);
  });
});
