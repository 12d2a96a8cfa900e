/** Counts relay job return values by outcome (`relayed <outcome>`, `<status> <reason>`, or `unknown`). */
export function tallyRelayOutcomes(relayResults: Map<string, string[]>): Record<string, number> {
  const relayOutcomes: Record<string, number> = {};
  for (const list of relayResults.values()) {
    for (const v of list) {
      let key = 'unknown';
      try {
        const r = JSON.parse(v) as { status: string; reason?: string; outcome?: string };
        key = r.status === 'relayed' ? `relayed ${r.outcome}` : `${r.status} ${r.reason ?? ''}`.trim();
      } catch {
        /* keep unknown */
      }
      relayOutcomes[key] = (relayOutcomes[key] ?? 0) + 1;
    }
  }
  return relayOutcomes;
}
