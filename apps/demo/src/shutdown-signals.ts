/**
 * SIGINT / SIGTERM / SIGHUP: the first asks for a clean stop (the returned promise resolves with
 * the signal's name), a second one forces: `force()` runs and the process exits 130.
 */
export function onStopSignals(force: () => void): { requested: Promise<NodeJS.Signals>; dispose: () => void } {
  let resolve!: (s: NodeJS.Signals) => void;
  const requested = new Promise<NodeJS.Signals>((r) => (resolve = r));
  let count = 0;
  const handler = (sig: NodeJS.Signals) => {
    count++;
    if (count === 1) return resolve(sig);
    process.stderr.write(`\ndemo: ${sig} again, killing everything now\n`);
    force();
    process.exit(130);
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  signals.forEach((s) => process.on(s, handler));
  return { requested, dispose: () => signals.forEach((s) => process.off(s, handler)) };
}
