import type { ChaosSummary } from './chaos-summary';
import type { FailoverRecord } from './redis-topology';

const ms = (v: number | undefined) => (v === undefined ? 'n/a' : v === Infinity ? 'inf' : `${Math.round(v * 10) / 10} ms`);

const secs = (v: number) => `${(v / 1000).toFixed(1)} s`;

/** The Redis line(s): mode, and per failover kind the count and each one's time (and the rejoin after it). */
function redisLines(r: ChaosSummary['redis']): string[] {
  if (r.mode === 'single') return [`redis: single, ${r.description}`];
  const kinds = (['graceful', 'kill'] as const).map((k) => [k, r.failovers.filter((f) => f.kind === k)] as const);
  const each = (f: FailoverRecord) => `${secs(f.ms)} (+${secs(f.rejoinMs)} rejoin)`;
  return [
    `redis: ${r.description}; failovers ${r.failovers.length}: ${kinds.map(([k, fs]) => `${k} ${fs.length}`).join(', ')}`,
    ...kinds.filter(([, fs]) => fs.length).map(([k, fs]) => `  ${k}: ${fs.map(each).join(', ')}`),
  ];
}

/** The table printed at the end. */
export function formatSummary(s: ChaosSummary): string {
  const width = Math.max(...s.rows.map((r) => r.label.length));
  const lines = [
    '',
    `chaos run: ${s.options.executions} executions requested, ${s.options.replicas} bridge replica(s), seed ${s.options.seed}, ${s.seconds.toFixed(0)} s`,
    `chaos actions: ${
      Object.entries(s.events)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'none'
    }; faults fired: ${
      Object.entries(s.counters.faultsFired)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'none'
    }`,
    ...redisLines(s.redis),
    '',
    `  ${'metric'.padEnd(width)}  ${'count'.padStart(6)}  rule`,
    `  ${'-'.repeat(width)}  ------  ----`,
    ...s.rows.map((r) => {
      const bad = r.rule === 'zero' && r.value !== 0;
      return `  ${r.label.padEnd(width)}  ${String(r.value).padStart(6)}  ${r.rule === 'zero' ? (bad ? 'MUST BE 0' : 'must be 0') : 'reported'}${r.note ? `  (${r.note})` : ''}`;
    }),
    '',
    `relay outcomes (task records): ${Object.entries(s.relayOutcomes)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    `dispatch (token received -> in Redis, bucket upper bounds): p50 <= ${ms(s.dispatch.p50Ms)}, p99 <= ${ms(s.dispatch.p99Ms)}, max <= ${ms(s.dispatch.maxMs)} (${s.dispatch.samples} samples)`,
    `  clear of Redis outages (+2 s): p50 <= ${ms(s.dispatchClearOfRedisOutages.p50Ms)}, p99 <= ${ms(s.dispatchClearOfRedisOutages.p99Ms)}, max <= ${ms(s.dispatchClearOfRedisOutages.maxMs)} (${s.dispatchClearOfRedisOutages.samples} samples)`,
    `longest heartbeat silence per token: max ${s.silence.longestMs} ms, p99 ${s.silence.p99Ms} ms over ${s.silence.tokens} tokens; ${s.silence.overBound} above interval + claim lease (${s.silence.boundMs} ms)`,
    `  above the bound, next to: a Redis action ${s.silence.overBoundBy.redis}, a replica kill/stop ${s.silence.overBoundBy.replica}, no chaos action ${s.silence.overBoundBy.none}`,
    ...s.silence.worst.map((w) => `  ${w}`),
    `emulator: calls ${Object.entries(s.counters.calls)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    `emulator: closes ${Object.entries(s.counters.closes)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}; SendTask* on closed tasks ${s.counters.duplicateSendTask}; heartbeats ${s.counters.heartbeats}`,
  ];
  if (Object.keys(s.timeoutDetail).length)
    lines.push(
      `timeouts: ${Object.entries(s.timeoutDetail)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
  if (s.timeoutLines.length) lines.push('timed out (first 20):', ...s.timeoutLines.map((l) => `  ${l}`));
  if (s.secondResultLines.length) lines.push('second results (first 20):', ...s.secondResultLines.map((l) => `  ${l}`));
  if (s.lostDetail.length) lines.push('lost (first 50):', ...s.lostDetail.map((l) => `  ${l}`));
  if (s.unwrittenDetail.length) lines.push('lost in a SIGKILLed replica, unwritten (first 50):', ...s.unwrittenDetail.map((l) => `  ${l}`));
  if (s.wrongDetail.length) lines.push('wrong (first 50):', ...s.wrongDetail.map((l) => `  ${l}`));
  lines.push('', s.ok ? 'RESULT: OK' : 'RESULT: FAILED', ...(s.logDir ? [`logs: ${s.logDir}`] : []), '');
  return lines.join('\n');
}
